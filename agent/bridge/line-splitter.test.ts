import { describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks and keeps the tail', () => {
    const s = new LineSplitter(100);
    expect(s.push(Buffer.from('{"a":'))).toEqual([]);
    expect(s.push(Buffer.from('1}\n{"b":2}\n{"c"'))).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.buffered).toBe(4);
    expect(s.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
    expect(s.buffered).toBe(0);
  });

  it('decodes UTF-8 split inside a character', () => {
    const s = new LineSplitter(100);
    const bytes = Buffer.from('"가"\n');
    expect(s.push(bytes.subarray(0, 2))).toEqual([]);
    expect(s.push(bytes.subarray(2))).toEqual(['"가"']);
  });

  it.each([
    ['in one chunk', [Buffer.alloc(11, 0x61)]],
    ['across chunks', [Buffer.alloc(6, 0x61), Buffer.alloc(6, 0x61)]],
    ['before a newline', [Buffer.from('a'.repeat(11) + '\n')]],
  ])('refuses a line over the limit %s', (_name, chunks) => {
    const s = new LineSplitter(10);
    let error: unknown;
    try {
      for (const c of chunks) s.push(c);
    } catch (err) {
      error = err;
    }
    expect(isNsmlError(error, 'NSML_E_TOO_LARGE')).toBe(true);
  });

  it('accepts a line of exactly the limit', () => {
    expect(new LineSplitter(10).push(Buffer.from('a'.repeat(10) + '\n'))).toEqual(['a'.repeat(10)]);
  });
});

import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatCount, formatMib, formatTable, plural, truncate } from './format.js';

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [12_700, '12.4 KB'],
    [5 * 1024 ** 3, '5.0 GB'],
    [-1, '-'],
  ])('formatBytes(%d) is %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [0, '0'],
    [999, '999'],
    [1997, '1,997'],
    [1_234_567, '1,234,567'],
  ])('formatCount(%d) is %s', (n, text) => expect(formatCount(n)).toBe(text));

  it('formats the rest', () => {
    expect(formatMib(81_559)).toBe('79.6 GB');
    expect(formatMib(0)).toBe('-');
    expect(formatAgo(0, 10_000)).toBe('-');
    expect(formatAgo(7_000, 10_000)).toBe('3s ago');
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(2000, 'file')).toBe('2,000 files');
    expect(truncate('a  b\nc', 10)).toBe('a b c');
    expect(truncate('abcdefghijk', 5)).toBe('abcd…');
  });

  it('aligns table columns', () => {
    expect(formatTable(['A', 'LONG'], [['xxx', '1'], ['y', '22']])).toBe('A    LONG\nxxx  1\ny    22\n');
  });
});

describe('formatTable escapes what it prints', () => {
  it.each([
    ['a bidi override in a memo', 'fix\u202eslrev', 'fix\\u202eslrev'],
    ['a terminal escape in a name', '\u001b[2Jx', '\\u001b[2Jx'],
    ['an isolate', 'a\u2066b', 'a\\u2066b'],
  ])('%s', (_what, cell, shown) => {
    expect(formatTable(['NAME', 'MEMO'], [['s', cell]])).toBe(`NAME  MEMO\ns     ${shown}\n`);
  });
});

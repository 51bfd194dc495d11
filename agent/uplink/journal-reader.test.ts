import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalReader } from './journal-reader.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function journal(content: string): string {
  dir = mkdtempSync(join(tmpdir(), 'nsml-journal-'));
  const path = join(dir, 'telemetry.jsonl');
  writeFileSync(path, content);
  return path;
}

const texts = (r: JournalReader, max = 100, final = false) => r.next(max, final).map((e) => [e.seq, e.tooLong ? '<long>' : e.text]);

describe('JournalReader', () => {
  it.each([
    ['entries written as \\n{json}\\n', '\n{"a":1}\n\n{"a":2}\n', [[1, '{"a":1}'], [2, '{"a":2}']]],
    ['plain lines', '{"a":1}\n{"a":2}\n', [[1, '{"a":1}'], [2, '{"a":2}']]],
    ['an unfinished last line waits', '\n{"a":1}\n\n{"a":', [[1, '{"a":1}']]],
    ['a torn line ended by the next entry damages only itself', '\n{"a":1}\n\n{"a":\n{"a":3}\n', [[1, '{"a":1}'], [2, '{"a":'], [3, '{"a":3}']]],
    ['carriage returns and blank lines are not entries', '\r\n\n\n{"a":1}\r\n', [[1, '{"a":1}\r']]],
  ])('numbers %s', (_what, content, expected) => {
    expect(texts(new JournalReader(journal(content), { maxLineBytes: 1000 }))).toEqual(expected);
  });

  it('reads an unfinished last line once the writer is done', () => {
    const r = new JournalReader(journal('\n{"a":1}\n\n{"a":2}'), { maxLineBytes: 1000 });
    expect(texts(r)).toEqual([[1, '{"a":1}']]);
    expect(r.caughtUp()).toBe(true);
    expect(r.caughtUp(true)).toBe(false);
    expect(texts(r, 100, true)).toEqual([[2, '{"a":2}']]);
  });

  it('follows a growing file and hands out each entry once', () => {
    const path = journal('');
    const r = new JournalReader(path, { maxLineBytes: 1000 });
    expect(texts(r)).toEqual([]);
    appendFileSync(path, '\n{"a":1}\n');
    expect(texts(r)).toEqual([[1, '{"a":1}']]);
    expect(texts(r)).toEqual([]);
    appendFileSync(path, '\n{"a":2}\n\n{"a":3}\n');
    expect(texts(r, 1)).toEqual([[2, '{"a":2}']]);
    expect(texts(r, 1)).toEqual([[3, '{"a":3}']]);
  });

  it('skips a line over the limit as one entry, however many reads it spans', () => {
    const long = 'x'.repeat(5000);
    const r = new JournalReader(journal(`\n{"a":1}\n\n${long}\n\n{"a":3}\n`), { maxLineBytes: 100, readBytes: 256 });
    expect(texts(r)).toEqual([[1, '{"a":1}'], [2, '<long>'], [3, '{"a":3}']]);
  });

  it('replays from what was acknowledged, with the same numbers, also in a new reader', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `\n{"i":${i + 1}}\n`).join('');
    const path = journal(lines);
    const r = new JournalReader(path, { maxLineBytes: 1000, checkpointBytes: 64 });
    expect(r.next(30).length).toBe(30);
    r.ack(20);
    r.rewind(20);
    expect(texts(r, 3)).toEqual([[21, '{"i":21}'], [22, '{"i":22}'], [23, '{"i":23}']]);
    const position = r.position();
    expect(position.acked).toBe(20);
    expect(position.checkpoint.seq).toBeLessThanOrEqual(20);
    const again = new JournalReader(path, { maxLineBytes: 1000 }, position);
    expect(texts(again, 2)).toEqual([[21, '{"i":21}'], [22, '{"i":22}']]);
    again.rewind(0);
    expect(texts(again, 1)).toEqual([[1, '{"i":1}']]);
  });
});

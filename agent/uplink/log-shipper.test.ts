import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../runner/logs/frames.js';
import { LogShipper, type ShippedLine } from './log-shipper.js';

describe('LogShipper', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-shipper-'));
    path = join(dir, 'output.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Interleaved stdout and stderr lines, in frames that cut lines in odd places. */
  function writeOutput(lines: number): void {
    writeFileSync(path, '');
    for (let i = 1; i <= lines; i += 1) {
      const stream = i % 3 === 0 ? 'stderr' : 'stdout';
      const text = `line ${i}\n`;
      appendFileSync(path, encodeFrame(stream, i, text.slice(0, 3)));
      appendFileSync(path, encodeFrame(stream, i, text.slice(3)));
    }
  }

  function drain(s: LogShipper, final = true): ShippedLine[] {
    const out: ShippedLine[] = [];
    for (let batch = s.next(7, 1 << 20, final); batch.length > 0; batch = s.next(7, 1 << 20, final)) out.push(...batch);
    return out;
  }

  const small = { maxLineBytes: 1024, readBytes: 100, checkpointBytes: 50 };

  it('numbers lines from 1 without gaps, in the order the supervisor read them', () => {
    writeOutput(30);
    const s = new LogShipper(path, small);
    const lines = drain(s);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(lines.map((l) => l.text)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
    expect(lines.filter((l) => l.stream === 'stderr')).toHaveLength(10);
    expect(s.drained(true)).toBe(true);
    expect(s.lastSeq).toBe(30);
  });

  it('gives the same line the same seq after a rewind, from any acknowledged point', () => {
    writeOutput(40);
    const s = new LogShipper(path, small);
    const first = drain(s);
    for (const acked of [0, 1, 13, 27, 39, 40]) {
      s.rewind(acked);
      const again = drain(s);
      expect(again).toEqual(first.slice(acked));
    }
  });

  it('resumes after a restart from its persisted position with nothing lost or repeated', () => {
    writeOutput(25);
    const a = new LogShipper(path, small);
    const before = a.next(12, 1 << 20, false);
    a.ack(10);
    const pos = JSON.parse(JSON.stringify(a.position()));
    a.close();
    expect(pos.checkpoint.seq).toBeLessThanOrEqual(10);

    const b = new LogShipper(path, small, pos);
    b.rewind(10);
    const after = drain(b);
    expect([...before.slice(0, 10), ...after].map((l) => l.text)).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i + 1}`));
    expect(after[0]!.seq).toBe(11);
    b.close();
  });

  it('keeps an unfinished line until the output is final', () => {
    writeFileSync(path, Buffer.concat([encodeFrame('stdout', 1, 'done\nhalf')]));
    const s = new LogShipper(path, small);
    expect(s.next(10, 1 << 20, false).map((l) => l.text)).toEqual(['done']);
    expect(s.drained(false)).toBe(false);
    expect(s.next(10, 1 << 20, true).map((l) => l.text)).toEqual(['half']);
    expect(s.drained(true)).toBe(true);
  });

  it('waits for a frame that is only partly written', () => {
    const frame = encodeFrame('stdout', 1, 'whole\n');
    writeFileSync(path, frame.subarray(0, 8));
    const s = new LogShipper(path, small);
    expect(s.next(10, 1 << 20, false)).toEqual([]);
    appendFileSync(path, frame.subarray(8));
    expect(s.next(10, 1 << 20, false).map((l) => l.text)).toEqual(['whole']);
  });

  it('treats a missing file as empty output', () => {
    const s = new LogShipper(join(dir, 'absent.log'), small);
    expect(s.next(10, 1 << 20, false)).toEqual([]);
    expect(s.drained(true)).toBe(true);
    expect(s.lastSeq).toBe(0);
  });
});

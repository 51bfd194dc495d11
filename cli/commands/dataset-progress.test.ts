import { describe, expect, it } from 'vitest';
import { captureIo } from '../io.js';
import { createProgress } from './dataset-progress.js';

describe('dataset progress', () => {
  it('prints plain lines with bytes, files and speed when stderr is not a terminal', () => {
    let now = 0;
    const io = captureIo();
    const p = createProgress(io, { label: 'pushing mnist', totalBytes: 4 * 1024 * 1024, totalFiles: 4, now: () => now, lineMs: 2_000 });
    now = 1_000;
    p.add(1024 * 1024, 1);
    expect(io.stderr()).toBe('');
    now = 2_000;
    p.add(1024 * 1024, 1);
    now = 4_000;
    p.add(2 * 1024 * 1024, 2);
    p.done();
    expect(io.stderr().split('\n').filter(Boolean)).toEqual([
      'pushing mnist 50%  2.0 MB / 4.0 MB  2/4 files  1.0 MB/s',
      'pushing mnist 100%  4.0 MB / 4.0 MB  4/4 files  1.0 MB/s',
      'pushing mnist 100%  4.0 MB / 4.0 MB  4/4 files  1.0 MB/s',
    ]);
  });

  it('redraws one line with a bar on a terminal', () => {
    let now = 0;
    const io = { ...captureIo(), errIsTty: true };
    const p = createProgress(io, { label: 'pulling x@1', totalBytes: 100, totalFiles: 2, now: () => now });
    now = 500;
    p.add(50, 1);
    now = 1_000;
    p.add(50, 1);
    p.done();
    const out = io.stderr();
    expect(out.startsWith('\rpulling x@1 [############............] 50%')).toBe(true);
    expect(out).toContain('\rpulling x@1 [########################] 100%');
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    expect(out.split('\r')).toHaveLength(4);
  });
});

import { describe, expect, it } from 'vitest';
import { LineSplitter, collapseCarriageReturns } from './line-splitter.js';

describe('collapseCarriageReturns', () => {
  it.each([
    ['plain', 'plain'],
    ['10%\r20%\r30%', '30%'],
    ['windows line\r', 'windows line'],
    ['\r 50%|#####     |\r100%|##########|\r', '100%|##########|'],
    ['\r\r\r', ''],
    ['', ''],
  ])('%j shows as %j', (raw, shown) => {
    expect(collapseCarriageReturns(Buffer.from(raw))).toBe(shown);
  });
});

describe('LineSplitter', () => {
  const texts = (lines: { text: string }[]) => lines.map((l) => l.text);

  it('splits on newlines and keeps an unfinished line for later', () => {
    const s = new LineSplitter(1024);
    expect(texts(s.push('stdout', Buffer.from('a\nb\npart'), 1))).toEqual(['a', 'b']);
    expect(texts(s.push('stdout', Buffer.from('ial\n'), 2))).toEqual(['partial']);
  });

  it('keeps stdout and stderr apart', () => {
    const s = new LineSplitter(1024);
    expect(s.push('stdout', Buffer.from('out-'), 1)).toEqual([]);
    expect(s.push('stderr', Buffer.from('err\n'), 2)).toEqual([{ stream: 'stderr', tsMs: 2, text: 'err' }]);
    expect(s.push('stdout', Buffer.from('line\n'), 3)).toEqual([{ stream: 'stdout', tsMs: 3, text: 'out-line' }]);
  });

  it('cuts a long line into pieces at character boundaries', () => {
    const s = new LineSplitter(16);
    const line = 'é'.repeat(20); // 40 bytes, two per character
    const out = texts(s.push('stdout', Buffer.from(line + '\n'), 1));
    expect(out.join('')).toBe(line);
    expect(out.every((t) => Buffer.byteLength(t) <= 16)).toBe(true);
  });

  it('bounds an endless progress line by dropping overwritten updates', () => {
    const s = new LineSplitter(64);
    let emitted: string[] = [];
    for (let i = 0; i <= 100; i += 1) emitted = emitted.concat(texts(s.push('stderr', Buffer.from(`\rprogress ${i}%`), i)));
    emitted = emitted.concat(texts(s.push('stderr', Buffer.from('\n'), 101)));
    expect(emitted[emitted.length - 1]).toBe('progress 100%');
    expect(Buffer.from(s.state().stderr, 'base64').length).toBe(0);
  });

  it('resumes from its state', () => {
    const a = new LineSplitter(1024);
    a.push('stdout', Buffer.from('half'), 1);
    const b = new LineSplitter(1024, a.state());
    expect(texts(b.push('stdout', Buffer.from(' done\n'), 2))).toEqual(['half done']);
  });

  it('flushes unfinished lines at the end', () => {
    const s = new LineSplitter(1024);
    s.push('stdout', Buffer.from('no newline'), 1);
    s.push('stderr', Buffer.from('x\ry'), 1);
    expect(texts(s.flush(2))).toEqual(['no newline', 'y']);
    expect(s.flush(3)).toEqual([]);
  });
});

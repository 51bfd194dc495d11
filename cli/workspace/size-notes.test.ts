import { describe, expect, it } from 'vitest';
import { LARGE_FILE_BYTES, LARGE_WORKSPACE_BYTES, sizeNotes } from './size-notes.js';

const entry = (path: string, size: number) => ({ path, size, mode: 0o644, hash: 'h' });
const packed = (...entries: ReturnType<typeof entry>[]) => ({ entries, totalBytes: entries.reduce((s, e) => s + e.size, 0) });

describe('sizeNotes', () => {
  it('says nothing about a small workspace', () => {
    expect(sizeNotes(packed(entry('main.py', 2_000), entry('data.csv', LARGE_FILE_BYTES - 1)))).toEqual([]);
  });

  it('names a large file, biggest first, and says how to leave it out', () => {
    const notes = sizeNotes(packed(entry('main.py', 100), entry('a.bin', LARGE_FILE_BYTES), entry('big/model.pt', 286 * 1024 * 1024)));
    expect(notes[0]).toBe('nsml: note: big/model.pt is 286.0 MB and goes up with the code');
    expect(notes[1]).toMatch(/^nsml: note: a\.bin is 50\.0 MB/);
    expect(notes.at(-1)).toMatch(/\.nsmlignore .*nsml dataset push NAME DIR/);
  });

  it('lists five files and counts the rest', () => {
    const many = Array.from({ length: 8 }, (_, i) => entry(`f${i}`, LARGE_FILE_BYTES + i));
    const notes = sizeNotes(packed(...many));
    expect(notes.filter((n) => n.includes('goes up with the code'))).toHaveLength(5);
    expect(notes).toContain('nsml: note: and 3 more files of 50.0 MB or more');
  });

  it('notes a large total made of small files', () => {
    const many = Array.from({ length: 5 }, (_, i) => entry(`part${i}`, LARGE_WORKSPACE_BYTES / 5));
    expect(sizeNotes(packed(...many))).toEqual([expect.stringMatching(/the workspace is 200\.0 MB; list data/)]);
  });
});

import { describe, expect, it } from 'vitest';
import { DirSync } from './dir-sync.js';

/** A folder fsync the test finishes by hand, recording when each one started. */
function manualSync() {
  const started: string[] = [];
  const finishers: Array<() => void> = [];
  const fsync = (dir: string) => new Promise<void>((resolve) => {
    started.push(dir);
    finishers.push(resolve);
  });
  return { started, finishNext: () => finishers.shift()!(), fsync };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DirSync', () => {
  it('shares one fsync among the requests made before it starts', async () => {
    const m = manualSync();
    const sync = new DirSync(m.fsync);
    const a = sync.sync('/d');
    const b = sync.sync('/d');
    const other = sync.sync('/e');
    await tick();
    expect(m.started).toEqual(['/d', '/e']);
    m.finishNext();
    m.finishNext();
    await Promise.all([a, b, other]);
  });

  it('gives a request made while an fsync runs a later fsync of its own', async () => {
    const m = manualSync();
    const sync = new DirSync(m.fsync);
    const first = sync.sync('/d');
    await tick();
    let laterDone = false;
    const later = sync.sync('/d').then(() => (laterDone = true));
    m.finishNext();
    await first;
    await tick();
    expect(laterDone).toBe(false);
    expect(m.started).toEqual(['/d', '/d']);
    m.finishNext();
    await later;
    expect(laterDone).toBe(true);
  });
});

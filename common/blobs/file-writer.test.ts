import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ByteBudget, FileWriter } from './file-writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ByteBudget', () => {
  it('holds a taker back until enough bytes were given back', async () => {
    const budget = new ByteBudget(10);
    budget.take(12);
    let through = false;
    const waiting = budget.below().then(() => (through = true));
    await new Promise((r) => setImmediate(r));
    expect(through).toBe(false);
    budget.give(3);
    await waiting;
    expect(budget.inUse).toBe(9);
  });
});

describe('FileWriter', () => {
  it('writes chunks queued in any order at their positions, within its budget', async () => {
    const budget = new ByteBudget(1024);
    const path = join(dir, 'f');
    const w = FileWriter.open(path, 'w', budget);
    w.write(Buffer.from('world'), 6);
    w.write(Buffer.from('hello '), 0);
    expect(budget.inUse).toBe(11);
    await w.sync();
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe('hello world');
    expect(budget.inUse).toBe(0);
  });

  it('reports a failed open on flush, and closing it anyway does not throw when forced', async () => {
    const w = FileWriter.open(join(dir, 'missing', 'f'), 'w', new ByteBudget(1024));
    w.write(Buffer.from('x'), 0);
    await expect(w.flush()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(w.failed).toBe(true);
    await w.close(true);
  });
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataLock } from './data-lock.js';

describe('DataLock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one agent at a time use a data folder, and says who holds it', () => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-lock-'));
    const lock = DataLock.acquire(dir);
    expect(() => DataLock.acquire(dir)).toThrow(new RegExp(`another agent \\(pid ${process.pid}\\) is using`));
    lock.release();
    expect(existsSync(join(dir, 'agent.lock'))).toBe(false);
    DataLock.acquire(dir).release();
  });

  it('takes over the lock of an agent that is gone', () => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-lock-'));
    writeFileSync(join(dir, 'agent.lock'), JSON.stringify({ pid: process.pid, startTicks: 'an earlier process' }));
    const lock = DataLock.acquire(dir);
    lock.release();
    expect(existsSync(join(dir, 'agent.lock'))).toBe(false);
  });
});

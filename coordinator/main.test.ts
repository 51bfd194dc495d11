import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { startCoordinator } from './main.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-main-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('startCoordinator', () => {
  it('writes coordinator.json while listening, reports its status, and removes the file on close', async () => {
    const c = await startCoordinator({ dataDir: dir, port: 0, logger: silentLogger });
    expect(c.address).toBe(`127.0.0.1:${c.port}`);
    const info = JSON.parse(readFileSync(join(dir, 'coordinator.json'), 'utf8')) as unknown;
    expect(info).toEqual({ address: c.address, pid: process.pid });
    expect(c.getStatus()).toMatchObject({ state: 'serving', agentsConnected: 0, sessions: { queued: 0, active: 0 } });
    await c.close();
    expect(c.getStatus().state).toBe('closed');
    expect(existsSync(join(dir, 'coordinator.json'))).toBe(false);
  });

  it('fails with NSML_E_CONFIG when the port is taken', async () => {
    const c = await startCoordinator({ dataDir: dir, port: 0, logger: silentLogger });
    const other = mkdtempSync(join(tmpdir(), 'nsml-main-'));
    try {
      await expect(startCoordinator({ dataDir: other, port: c.port, logger: silentLogger })).rejects.toMatchObject({ code: 'NSML_E_CONFIG' });
    } finally {
      c.destroy();
      rmSync(other, { recursive: true, force: true });
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import type { GpuProbe } from './gpu/types.js';
import { startAgent, type Agent, type AgentOptions } from './main.js';
import { FakeCoordinator } from './testing/fake-coordinator.js';
import { RunnerFixture } from './testing/runner-fixture.js';

const oneGpu: GpuProbe = {
  read: async () => ({
    gpus: [{ index: 0, uuid: 'GPU-0', name: 'Fake GPU', memoryTotalMib: 1024, mig: '', health: 'ok', healthReason: '', processes: [] }],
  }),
  close: () => {},
};

describe('startAgent against a coordinator', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(extra: Partial<AgentOptions> = {}): Promise<{ coord: FakeCoordinator; agent: Agent; f: RunnerFixture }> {
    const f = new RunnerFixture();
    cleanups.push(() => f.cleanup());
    const coord = await FakeCoordinator.start({ heartbeatIntervalMs: 50 });
    cleanups.push(() => coord.stop());
    const agent = await startAgent({
      coordinator: coord.address, dataDir: join(f.dir, 'agent'), gpuProbe: oneGpu, blobSource: f.source,
      sdkPath: join(f.dir, 'sdk'), logger: silentLogger, reconnectMinMs: 20, reconnectMaxMs: 100, ...extra,
    });
    cleanups.push(async () => {
      await agent.stopAllSessions(0);
      await agent.destroy();
    });
    return { coord, agent, f };
  }

  it('registers with its inventory and a node id kept in the data folder', async () => {
    const { coord, agent, f } = await setup({ joinToken: 'secret', advertiseAddress: '10.1.2.3', labels: { rack: 'a' } });
    const reg = await coord.waitFor(() => coord.messages('register')[0]?.register, 'register');
    expect(reg.nodeId).toBe(agent.nodeId);
    expect(readFileSync(join(f.dir, 'agent', 'node-id'), 'utf8').trim()).toBe(agent.nodeId);
    expect(reg.joinToken).toBe('secret');
    expect(reg.running).toEqual([]);
    const inv = reg.inventory!;
    expect(inv.cpus).toBeGreaterThan(0);
    expect(inv.memoryMib).toBeGreaterThan(0);
    expect(inv.hostname.length).toBeGreaterThan(0);
    expect(inv.os.length).toBeGreaterThan(0);
    expect(inv.address).toBe('10.1.2.3');
    expect(inv.labels).toEqual({ rack: 'a' });
    expect(inv.gpus.map((g) => g.uuid)).toEqual(['GPU-0']);
    expect(inv.gpuProbeError).toBe('');
    await coord.waitFor(() => agent.getStatus().connection.state === 'connected', 'connected status');
  });

  it('reports a failing GPU probe in the inventory and still registers', async () => {
    const broken: GpuProbe = { read: async () => { throw new Error('NVIDIA-SMI has failed'); }, close: () => {} };
    const { coord } = await setup({ gpuProbe: broken });
    const reg = await coord.waitFor(() => coord.messages('register')[0]?.register, 'register');
    expect(reg.inventory?.gpuProbeError).toContain('NVIDIA-SMI has failed');
    expect(reg.inventory?.gpus).toEqual([]);
  });

  it('sends heartbeats at the interval the coordinator asked for', async () => {
    const { coord } = await setup();
    const hbs = await coord.waitFor(() => coord.messages('heartbeat').length >= 3 && coord.messages('heartbeat'), 'three heartbeats');
    expect(hbs[0]!.heartbeat!.gpus.map((g) => g.index)).toEqual([0]);
    expect(hbs[0]!.heartbeat!.tsMs).toBeGreaterThan(0);
  });

  it('keeps the node id across restarts and takes an explicit one', async () => {
    const { agent, f } = await setup();
    const first = agent.nodeId;
    await agent.close();
    const again = await startAgent({ coordinator: '127.0.0.1:1', dataDir: join(f.dir, 'agent'), gpuProbe: oneGpu, blobSource: f.source, logger: silentLogger });
    expect(again.nodeId).toBe(first);
    await again.destroy();
    const named = await startAgent({ coordinator: '127.0.0.1:1', dataDir: join(f.dir, 'agent'), nodeId: 'gpu-07', gpuProbe: oneGpu, blobSource: f.source, logger: silentLogger });
    expect(named.nodeId).toBe('gpu-07');
    await named.destroy();
  });

  it('runs a started session and reports starting, running, its lines, then exited', async () => {
    const { coord, f } = await setup();
    await coord.waitFor(() => coord.messages('register').length > 0, 'register');
    const workspace = f.workspace({ 'main.py': 'import os, sys\nprint("hello", os.environ["NSML_SESSION"])\nsys.exit(3)\n' });
    coord.send({ start: { session: 'bob/scratch/4', epoch: 2, rank: 0, worldSize: 1, workspace, entry: 'main.py', user: 'bob', masterAddr: '127.0.0.1', masterPort: 29500 } });
    const exited = await coord.waitFor(() => coord.messages('sessionStatus').find((m) => m.sessionStatus?.state === 'exited')?.sessionStatus, 'exited');
    expect(exited).toMatchObject({ session: 'bob/scratch/4', epoch: 2, rank: 0, exitCode: 3, signal: '' });
    const states = coord.messages('sessionStatus').map((m) => m.sessionStatus!.state);
    expect(states).toEqual(['starting', 'running', 'exited']);
    expect(coord.lines('bob/scratch/4', 2, 0).map((l) => l.text)).toEqual(['hello bob/scratch/4']);
    const bodies = coord.messages().map((m) => m.body).filter((b) => b === 'logBatch' || b === 'sessionStatus');
    expect(bodies.indexOf('logBatch')).toBeLessThan(bodies.lastIndexOf('sessionStatus'));
  });

  it('answers a malformed start with failed_to_start', async () => {
    const { coord } = await setup();
    await coord.waitFor(() => coord.messages('register').length > 0, 'register');
    coord.send({ start: { session: '../etc/1', epoch: 1, rank: 0, entry: 'main.py' } });
    const st = await coord.waitFor(() => coord.messages('sessionStatus')[0]?.sessionStatus, 'a status');
    expect(st.state).toBe('failed_to_start');
    expect(st.message).toMatch(/session name/);
  });
});

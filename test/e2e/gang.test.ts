import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  reason?: string;
  placements?: Array<{ nodeId: string; rank: number; gpuIndices: number[] }>;
}

const PRINT_RANK = [
  'import os',
  'keys = ["RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES", "NSML_SESSION"]',
  'print("env " + " ".join(k + "=" + os.environ.get(k, "-") for k in keys), flush=True)',
  '',
].join('\n');

describe('multi-node gangs on two agents with two GPUs each', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 2, gpusPerAgent: 2 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('places a 4-GPU session on both nodes, one process per node with its rank', async () => {
    const ws = makeWorkspace({ 'main.py': PRINT_RANK });
    const run = await cluster.nsml(['run', '--detach', '--json', '-g', '4'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    const wait = await cluster.nsml(['wait', name]);
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);

    const session = (await cluster.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === name)!;
    expect(session.placements?.map((p) => p.nodeId).sort()).toEqual(['node1', 'node2']);
    expect(session.placements?.map((p) => p.rank).sort()).toEqual([0, 1]);
    for (const p of session.placements ?? []) expect(p.gpuIndices).toHaveLength(2);

    const logs = await cluster.nsml(['logs', name]);
    const envLines = logs.stdout.split('\n').filter((l) => l.includes('env RANK='));
    expect(envLines).toHaveLength(2);
    const ranks = envLines.map((l) => /RANK=(\d+)/.exec(l)?.[1]).sort();
    expect(ranks).toEqual(['0', '1']);
    for (const line of envLines) {
      expect(line).toContain('WORLD_SIZE=2');
      expect(line).toContain(`NSML_SESSION=${name}`);
      expect(line).toMatch(/MASTER_ADDR=\S+ MASTER_PORT=\d+/);
      const devices = /CUDA_VISIBLE_DEVICES=(\S+)/.exec(line)?.[1] ?? '';
      expect(devices.split(',')).toHaveLength(2);
    }
  });

  it('never starts part of a gang: a 4-GPU session waits while one GPU is taken', async () => {
    const hold = makeWorkspace({ 'main.py': 'import time\nprint("holding", flush=True)\ntime.sleep(60)\n' });
    const holder = JSON.parse((await cluster.nsml(['run', '--detach', '--json', '-g', '1'], { cwd: hold })).stdout) as { name: string };
    await cluster.waitFor(async () => (await cluster.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === holder.name)?.state === 'running', 'the holder to run');

    const ws = makeWorkspace({ 'main.py': PRINT_RANK });
    const gang = JSON.parse((await cluster.nsml(['run', '--detach', '--json', '-g', '4'], { cwd: ws })).stdout) as { name: string };
    await new Promise((r) => setTimeout(r, 2_000));
    const waiting = (await cluster.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === gang.name)!;
    expect(waiting.state).toBe('queued');
    expect(waiting.placements ?? []).toHaveLength(0);
    expect(waiting.reason ?? '').not.toBe('');

    await cluster.nsml(['stop', holder.name]);
    const wait = await cluster.nsml(['wait', gang.name]);
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);
  });
});

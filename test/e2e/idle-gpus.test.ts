import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  idle?: boolean;
}

describe('idle sessions on a node whose GPUs stay at 0 %', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1, gpusPerAgent: 1, agentArgs: ['--idle-window', '1s'] });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('marks a 1-GPU session idle in nsml ps and nsml node ls', async () => {
    const ws = makeWorkspace({ 'main.py': 'import time\nprint("waiting", flush=True)\ntime.sleep(60)\n' });
    const run = await cluster.nsml(['run', '--detach', '--json', '-g', '1'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    const session = async () => (await cluster.nsmlJson<SessionJson[]>(['ps'])).find((s) => s.name === name);
    await cluster.waitFor(async () => (await session())?.idle === true, 'the session to be reported idle');
    expect((await session())?.state).toBe('running');
    expect((await cluster.nsml(['ps'])).stdout).toMatch(new RegExp(`${name}\\s+running \\(idle\\)`));
    const nodes = (await cluster.nsml(['node', 'ls'])).stdout;
    expect(nodes).toMatch(/node1\s+ready\s+0\/1 free\s+ok\s/);
    expect(nodes).toContain(`${name} (idle)`);
    await cluster.nsml(['stop', name]);
  });
});

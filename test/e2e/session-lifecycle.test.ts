import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { countingScript, makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  reason?: string;
  exitCode?: number;
  placements?: Array<{ nodeId: string; rank: number }>;
}

describe('a session from submit to end, on a real two-agent cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 2 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('runs a script to succeeded and keeps every line of its log in order', async () => {
    const ws = makeWorkspace({ 'main.py': countingScript(50, 200), 'lib/helper.py': 'X = 1\n' });
    const run = await cluster.nsml(['run', '--detach', '--json', '-e', 'main.py'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    expect(name).toMatch(/^e2e\/scratch\/\d+$/);

    const wait = await cluster.nsml(['wait', name]);
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);

    const logs = await cluster.nsml(['logs', name]);
    expect(logs.exitCode).toBe(0);
    const lines = logs.stdout.split('\n').filter((l) => l.startsWith('line '));
    expect(lines).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));

    const all = await cluster.nsmlJson<SessionJson[]>(['ps', '-a']);
    expect(all.find((s) => s.name === name)?.state).toBe('succeeded');
  });

  it('passes arguments to the entry and reports a non-zero exit as failed', async () => {
    const ws = makeWorkspace({ 'train.py': 'import sys\nprint("args", sys.argv[1:])\nsys.exit(3)\n' });
    const run = await cluster.nsml(['run', '--detach', '--json', '-e', 'train.py', '-a', '--lr 0.1 --name "two words"'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    const wait = await cluster.nsml(['wait', name]);
    expect(wait.exitCode).toBe(1);
    const logs = await cluster.nsml(['logs', name]);
    expect(logs.stdout).toContain("args ['--lr', '0.1', '--name', 'two words']");
    const all = await cluster.nsmlJson<SessionJson[]>(['ps', '-a']);
    const s = all.find((x) => x.name === name);
    expect(s?.state).toBe('failed');
  });

  it('stops a running session with SIGTERM and ends it as stopped', async () => {
    const ws = makeWorkspace({ 'main.py': 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(0.1)\n' });
    const run = await cluster.nsml(['run', '--detach', '--json'], { cwd: ws });
    const { name } = JSON.parse(run.stdout) as { name: string };
    await cluster.waitFor(async () => (await cluster.nsml(['logs', name])).stdout.includes('started'), 'the session to print');
    const stop = await cluster.nsml(['stop', name]);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const wait = await cluster.nsml(['wait', name]);
    expect(wait.exitCode).toBe(1);
    const all = await cluster.nsmlJson<SessionJson[]>(['ps', '-a']);
    expect(all.find((x) => x.name === name)?.state).toBe('stopped');
  });

  it('follows logs live until the session ends, with no line lost or repeated', async () => {
    const ws = makeWorkspace({ 'main.py': countingScript(40, 40) });
    const run = await cluster.nsml(['run', '--detach', '--json'], { cwd: ws });
    const { name } = JSON.parse(run.stdout) as { name: string };
    const follow = await cluster.nsml(['logs', name, '-f']);
    expect(follow.exitCode).toBe(0);
    const lines = follow.stdout.split('\n').filter((l) => l.startsWith('line '));
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
  });

  it('lists both nodes', async () => {
    const nodes = await cluster.nodes();
    expect(nodes.map((n) => n.id).sort()).toEqual(['node1', 'node2']);
  });
});

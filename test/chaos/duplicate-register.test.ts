import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { gatedScript, makeWorkspace } from '../harness/workspace.js';

interface SessionJson {
  name: string;
  state: string;
  placements?: Array<{ nodeId: string }>;
}


describe('a node id is bound to the credential it got at first join', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
  });

  it('refuses a second agent under a live node\'s name, leaving its session and stream alone; forget frees the name', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const c = cluster;
    const go = join(c.dir, 'go');
    const ws = makeWorkspace({ 'main.py': gatedScript(20, go) }, c.dir);
    const run = await c.nsml(['run', '--detach', '--json'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    await c.waitFor(async () => (await c.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === name)?.state === 'running', 'the session to run');

    // Same join token (none), same --name, another data directory: no node secret.
    await c.startAgentAt('impostor', 'node1', join(c.dir, 'impostor'));
    await c.waitFor(() => c.agentExitCode('impostor') !== null, 'the second agent to be refused and exit');
    expect(c.agentStderr('impostor')).toContain('NSML_E_NODE_ID_TAKEN');
    expect(c.agentStderr('impostor')).toContain('already registered with another credential');
    expect(c.agentStderr('impostor')).toContain('nsml node forget node1');
    expect(c.agentExitCode('impostor')).not.toBe(0);

    // Nothing of node1 was touched: its session runs on and ends with every line.
    const session = (await c.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === name);
    expect(session).toMatchObject({ state: 'running', placements: [{ nodeId: 'node1' }] });
    expect((await c.nodes()).map((n) => [n.id, n.state])).toEqual([['node1', 'ready']]);
    const forgetLive = await c.nsml(['node', 'forget', 'node1']);
    expect(forgetLive.exitCode).not.toBe(0);
    expect(forgetLive.stderr).toContain('NSML_E_NODE_BUSY');
    writeFileSync(go, '');
    const wait = await c.nsml(['wait', name], { timeoutMs: 60_000 });
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);
    const logs = await c.nsml(['logs', name]);
    expect(logs.stdout.split('\n').filter((l) => l.startsWith('line '))).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));

    // The real node1 restarts on its own data directory: same secret, accepted.
    await c.killAgent('node1');
    await c.startAgent('node1');
    await c.waitFor(async () => (await c.nodes()).find((n) => n.id === 'node1')?.state === 'ready' && c.agentExitCode('node1') === null, 'node1 to register again');

    // Once node1 is gone, an admin forgets it and another data directory may take the name.
    await c.killAgent('impostor');
    await c.killAgent('node1');
    await c.waitFor(async () => (await c.nsml(['node', 'forget', 'node1'])).exitCode === 0, 'node1 to be forgotten');
    expect(await c.nodes()).toEqual([]);
    await c.startAgentAt('newcomer', 'node1', join(c.dir, 'impostor'));
    await c.waitFor(async () => (await c.nodes()).some((n) => n.id === 'node1' && n.state === 'ready'), 'the other data directory to register as node1');
    expect(c.agentStderr('newcomer')).not.toContain('already registered');
  }, 90_000); // five agent starts: about 12 s alone, several times that on a loaded machine
});

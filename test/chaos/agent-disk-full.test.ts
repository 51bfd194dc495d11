import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { gatedScript, makeWorkspace } from '../harness/workspace.js';
import { fillDisk } from '../harness/fill-disk.js';

interface SessionJson {
  name: string;
  state: string;
  exitCode?: number;
  placements?: Array<{ nodeId: string }>;
}

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('test/chaos/agent-disk-full: skipped (mounting a small tmpfs needs root)');



describe.skipIf(!isRoot)('the agent\'s disk fills up', () => {
  let cluster: TestCluster | undefined;
  let disk: string | undefined;
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    if (disk) {
      await execa('pkill', ['-9', '-f', disk], { reject: false });
      await execa('umount', ['-l', disk], { reject: false });
      rmSync(disk, { recursive: true, force: true });
      disk = undefined;
    }
  });

  it('reports the node full, places nothing there, keeps the agent alive and loses no line once space returns', async () => {
    cluster = await TestCluster.start({ agents: 0 });
    const c = cluster;
    disk = mkdtempSync(join(tmpdir(), 'nsml-disk-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk]);
    mkdirSync(join(disk, 'agent'));
    await c.startAgentAt('node1', 'node1', join(disk, 'agent'), ['--min-free', '1MiB']);
    await c.waitFor(async () => (await c.nodes()).some((n) => n.id === 'node1' && n.state === 'ready'), 'node1 to register');

    const go = join(c.dir, 'go');
    const done = join(c.dir, 'done');
    const ws = makeWorkspace({ 'main.py': gatedScript(50, go, { pad: 200, done }) }, c.dir);
    const run = await c.nsml(['run', '--detach', '--json'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    await c.waitFor(async () => (await c.nsml(['logs', name])).stdout.split('\n').filter((l) => l.startsWith('line ')).length === 50, 'the first 50 lines');

    // The disk fills while the session runs; it prints 50 more lines and ends meanwhile.
    const filler = join(disk, 'filler');
    fillDisk(filler);
    writeFileSync(go, '');
    await c.waitFor(() => existsSync(done), 'the script to finish');

    type NodeJson = { id: string; state: string; reason: string };
    let node: NodeJson | undefined;
    await c.waitFor(async () => (node = (await c.nsmlJson<NodeJson[]>(['node', 'ls'])).find((n) => n.id === 'node1'))?.state === 'disk-full', 'node1 to report its disk full');
    expect(node!.reason).toContain('NSML_E_DISK_FULL');
    expect((await c.nsml(['node', 'show', 'node1'])).stdout).toContain('NSML_E_DISK_FULL');
    expect(c.agentExitCode('node1')).toBeNull();

    // Nothing new goes to a full node.
    const second = await c.nsml(['run', '--detach', '--json'], { cwd: makeWorkspace({ 'main.py': 'print("second", flush=True)\n' }, c.dir) });
    expect(second.exitCode, second.stderr).toBe(0);
    const secondName = (JSON.parse(second.stdout) as { name: string }).name;
    await c.nsmlJson<NodeJson[]>(['node', 'ls']); // a scheduling round went by
    expect((await c.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === secondName)?.state).toBe('queued');
    expect(c.agentExitCode('node1')).toBeNull();

    // Space returns: everything is shipped, the session ends with its real exit code, the node takes work again.
    rmSync(filler);
    const wait = await c.nsml(['wait', name], { timeoutMs: 60_000 });
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);
    expect((await c.nsmlJson<SessionJson[]>(['ps', '-a'])).find((s) => s.name === name)?.state).toBe('succeeded');
    const lines = (await c.nsml(['logs', name])).stdout.split('\n').filter((l) => l.startsWith('line '));
    expect(lines.length).toBe(100);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 1)));
    await c.waitFor(async () => (await c.nodes()).find((n) => n.id === 'node1')?.state === 'ready', 'node1 to be ready again');
    const secondWait = await c.nsml(['wait', secondName], { timeoutMs: 60_000 });
    expect(secondWait.exitCode, secondWait.stdout + secondWait.stderr).toBe(0);
    expect(c.agentExitCode('node1')).toBeNull();
  });
});

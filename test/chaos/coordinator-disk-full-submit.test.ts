import { execa } from 'execa';
import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { countingScript, makeWorkspace } from '../harness/workspace.js';
import { fillDisk } from '../harness/fill-disk.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('test/chaos/coordinator-disk-full-submit: skipped (mounting a small tmpfs needs root)');


describe.skipIf(!isRoot)('the coordinator\'s disk fills up at submit', () => {
  let cluster: TestCluster | undefined;
  let mounted: string | undefined;
  afterEach(async () => {
    await cluster?.destroy().catch(() => undefined);
    if (mounted) {
      await execa('umount', ['-l', mounted], { reject: false });
      rmSync(mounted, { recursive: true, force: true });
    }
    cluster = undefined;
    mounted = undefined;
  });

  it('a submit answers NSML_E_DISK_FULL, not INTERNAL; once freed everything works and nothing acknowledged is lost', async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const c = cluster;
    const ws = makeWorkspace({ 'main.py': countingScript(30, 100) }, c.dir);
    const first = await c.nsml(['run'], { cwd: ws }); // uploads the workspace once
    expect(first.exitCode, first.stderr).toBe(0);

    // Move the coordinator's state onto a 24 MiB tmpfs.
    await c.killCoordinator();
    const data = join(c.dir, 'coordinator');
    renameSync(data, `${data}.disk`);
    mkdirSync(data);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', data]);
    mounted = data;
    cpSync(`${data}.disk`, data, { recursive: true });
    await c.startCoordinator('30s');
    await c.waitFor(async () => (await c.nodes()).some((n) => n.state === 'ready'), 'the agent to register again');

    fillDisk(join(data, 'filler'));
    const refused = await c.nsml(['run', '--detach'], { cwd: ws });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('NSML_E_DISK_FULL');
    expect(refused.stderr).not.toContain('NSML_E_INTERNAL');

    rmSync(join(data, 'filler'));
    const again = await c.nsml(['run'], { cwd: ws });
    expect(again.exitCode, again.stderr).toBe(0);
    const ps = await c.nsmlJson<Array<{ name: string; state: string }>>(['ps', '-a']);
    expect(ps.map((s) => s.state).sort()).toEqual(['succeeded', 'succeeded']);
    for (const s of ps) {
      const lines = (await c.nsml(['logs', s.name])).stdout.split('\n').filter((l) => l.startsWith('line '));
      expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
    }
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { fillDisk } from '../harness/fill-disk.js';
import { countingDiff, sessions, sleep, started, submitCounting, tally } from './chaos-kit.js';

const STEPS = 1000;
const root = process.getuid?.() === 0;


/**
 * The coordinator's disk fills while sessions report: the batches it cannot store are not
 * acknowledged (a later one never moves the mark past them), its agents' streams are reset rather
 * than wedged, and once space returns everything is replayed and stored exactly once.
 */
describe.skipIf(!root)('chaos: the coordinator’s disk is full', () => {
  let c: TestCluster;
  let mount = '';
  beforeAll(async () => {
    c = await TestCluster.start({
      agents: 1,
      heartbeatTimeout: '30s',
      prepare: (dir) => {
        mount = join(dir, 'coordinator');
        mkdirSync(mount, { recursive: true });
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount]);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await c?.killCoordinator();
    if (mount) execFileSync('umount', ['-l', mount]);
    await c?.destroy();
  });

  it('loses and repeats nothing, and the sessions end as they did', async () => {
    const names = [await submitCounting(c, STEPS, 6), await submitCounting(c, STEPS, 6)];
    await started(c, names);
    await sleep(700);
    const filler = fillDisk(join(mount, 'filler'));
    await sleep(2_500); // the sessions keep printing and reporting into a coordinator that cannot write
    rmSync(filler);
    for (const name of names) {
      const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
      expect(wait.exitCode, `${name}: ${wait.stdout}${wait.stderr}`).toBe(0);
    }
    for (const name of names) expect(countingDiff(await tally(c, name), STEPS), name).toEqual([]);
    expect((await sessions(c)).map((s) => [s.name, s.state]).sort()).toEqual(names.map((n) => [n, 'succeeded']).sort());
  }, 180_000);
});

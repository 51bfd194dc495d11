import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { countingDiff, sleep, started, submitCounting, tally } from './chaos-kit.js';

const STEPS = 500;

/**
 * A script keeps reporting after its agent is killed and exits while no agent runs: it does not
 * wait for one at exit, and every point it reported is stored once an agent comes back.
 */
describe('chaos: the agent is gone when the script ends', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 1, heartbeatTimeout: '60s' });
  }, 60_000);
  afterAll(async () => {
    await c?.destroy();
  });

  it('exits at once and loses no point', async () => {
    const name = await submitCounting(c, STEPS, 6);
    await started(c, [name]);
    await sleep(800);
    await c.killAgent('node1');
    const sessionsDir = join(c.dir, 'node1', 'sessions');
    const exited = () => readdirSync(sessionsDir).some((d) => existsSync(join(sessionsDir, d, 'exit.json')));
    await c.waitFor(exited, 'the script to exit with no agent', 60_000);
    await c.startAgent('node1');
    const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
    expect(wait.exitCode, wait.stdout + wait.stderr).toBe(0);
    expect(countingDiff(await tally(c, name), STEPS)).toEqual([]);
    const logs = await c.nsmlJson<Array<{ text: string }>>(['logs', name]);
    const took = logs.map((l) => /^exit took ([\d.]+) s$/.exec(l.text)).find((m) => m !== null);
    expect(took, 'the script printed how long its exit took').toBeDefined();
    // The SDK's exit waits up to 10 s for an agent it could deliver to; with nothing to wait for it is immediate.
    expect(Number(took![1])).toBeLessThan(5);
  }, 180_000);
});

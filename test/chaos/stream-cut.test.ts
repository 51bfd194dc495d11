import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { countingDiff, seeded, sleep, started, submitCounting, tally } from './chaos-kit.js';

const STEPS = 1000;

/** The agent's stream is reset (both directions, mid-message) again and again while it ships. */
describe('chaos: stream resets', () => {
  let c: TestCluster;
  let proxy: TcpProxy;
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 0, heartbeatTimeout: '4s' });
    proxy = await TcpProxy.start(c.address);
    await c.startAgentAt('cut1', 'cut1', join(c.dir, 'cut1'), ['--coordinator', proxy.address]);
    await c.waitFor(async () => (await c.nodes()).some((n) => n.id === 'cut1' && n.state === 'ready'), 'the agent behind the proxy');
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await c?.destroy();
  });

  it('stores every line and point once, however often the stream is cut', async () => {
    const seed = Number(process.env.NSML_CHAOS_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    const names = [await submitCounting(c, STEPS, 5), await submitCounting(c, STEPS, 5)];
    await started(c, names);
    for (let i = 0; i < 6; i += 1) {
      await sleep(200 + random() * 500);
      proxy.cut();
    }
    for (const name of names) {
      const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
      expect(wait.exitCode, `${name} (seed ${seed}): ${wait.stdout}${wait.stderr}`).toBe(0);
    }
    for (const name of names) expect(countingDiff(await tally(c, name), STEPS), `${name} (seed ${seed})`).toEqual([]);
    expect(proxy.cuts).toBe(6);
  }, 180_000);
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { countingDiff, seeded, sessions, sleep, started, submitCounting, tally } from './chaos-kit.js';

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
    // An operator's command travels down and its result and event up while the cuts go on.
    const control = c.nsml(['control', names[0]!, 'set', 'lr=0.25', '--json'], { timeoutMs: 90_000 });
    for (let i = 0; i < 6; i += 1) {
      await sleep(200 + random() * 500);
      proxy.cut();
    }
    const answer = await control;
    expect(answer.exitCode, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toMatchObject({ state: 'applied', ok: true });
    for (const name of names) {
      const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
      expect(wait.exitCode, `${name} (seed ${seed}): ${wait.stdout}${wait.stderr}`).toBe(0);
    }
    const tallies = await Promise.all(names.map((name) => tally(c, name)));
    tallies.forEach((t, i) => expect(countingDiff(t, STEPS), `${names[i]} (seed ${seed})`).toEqual([]));
    expect(tallies.map((t) => t.events.map((e) => [e.kind, e.name, e.value]))).toEqual([[['set', 'lr', 0.25]], []]);
    expect((await sessions(c)).map((s) => [s.name, s.state]).sort()).toEqual(names.map((n) => [n, 'succeeded']).sort());
    expect(proxy.cuts).toBe(6);
  }, 180_000);
});

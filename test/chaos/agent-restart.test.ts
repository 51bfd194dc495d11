import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { countingDiff, seeded, sessions, sleep, started, submitCounting, tally } from './chaos-kit.js';

// Long enough for an agent to start again on a loaded 2-core machine (Node, gRPC, inventory:
// up to ~4 s seen), short enough that the coordinator is soon older than it.
const TIMEOUT = '8s';
const STEPS = 700;

/**
 * Agents restarted (SIGTERM and kill -9) and the coordinator killed at random moments of two
 * sessions' lives, with a coordinator older than the heartbeat timeout: every session keeps
 * running and ends `succeeded`, and every log line and metric point is stored exactly once.
 */
describe('chaos: agent and coordinator restarts under a coordinator older than the timeout', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 1, heartbeatTimeout: TIMEOUT });
  }, 60_000);
  afterAll(async () => {
    await c?.destroy();
  });

  it('keeps every session, line and point through agent restarts within the timeout', async () => {
    const seed = Number(process.env.NSML_CHAOS_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    await sleep(8_500); // the coordinator is now older than the timeout
    const names = [await submitCounting(c, STEPS, 8), await submitCounting(c, STEPS, 8)];
    await started(c, names);

    const faults: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      await sleep(300 + random() * 900);
      const kind = round === 2 ? 'coordinator' : random() < 0.5 ? 'kill' : 'term';
      faults.push(kind);
      if (kind === 'coordinator') {
        await c.killCoordinator();
        await sleep(200 + random() * 600);
        await c.startCoordinator(TIMEOUT);
      } else {
        if (kind === 'kill') await c.killAgent('node1');
        else await c.termAgent('node1');
        await sleep(100 + random() * 800);
        await c.startAgent('node1');
      }
    }
    const context = `seed ${seed}, faults ${faults.join(',')}`;
    for (const name of names) {
      const wait = await c.nsml(['wait', name], { timeoutMs: 120_000 });
      expect(wait.exitCode, `${name} (${context}): ${wait.stdout}${wait.stderr}`).toBe(0);
    }
    for (const name of names) expect(countingDiff(await tally(c, name), STEPS), `${name} (${context})`).toEqual([]);
    const all = await sessions(c);
    expect(all.map((s) => [s.name, s.state]).sort(), context).toEqual(names.map((n) => [n, 'succeeded']).sort());
    const nodes = await c.nodes();
    expect(nodes.map((n) => n.state)).toEqual(['ready']);
  }, 240_000);

  it('answers a command whose result was written just before the agent was killed', async () => {
    const marker = `${c.dir}/applying`;
    const name = await submitCounting(c, 100_000, 10, marker);
    await started(c, [name]);
    const control = c.nsml(['control', name, 'set', 'lr=0.5', '--json'], { timeoutMs: 90_000 });
    const { existsSync, rmSync } = await import('node:fs');
    await c.waitFor(() => existsSync(marker), 'the script to apply the set', 60_000);
    await c.killAgent('node1'); // the script writes its result while no agent runs
    rmSync(marker);
    await sleep(500);
    await c.startAgent('node1');
    const answer = await control;
    expect(answer.exitCode, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toMatchObject({ state: 'applied', ok: true });
    const stop = await c.nsml(['stop', name]);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const t = await tally(c, name);
    expect(t.events.filter((e) => e.kind === 'set').map((e) => [e.name, e.value])).toEqual([['lr', 0.5]]);
  }, 180_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import type { Session__Output } from '../common/proto/types.js';
import { FakeAgent } from '../test/harness/fake-agent.js';
import { startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../test/harness/test-coordinator.js';
import { formatSeconds, stoppedByTimeLimit, timeLimitDeadline } from './sessions/time-limit.js';

/** A clock the test moves: the coordinator reads time only through it. */
class MovableClock {
  ms = Date.now();
  now(): number {
    return this.ms;
  }
}

let t: TestCoordinator | undefined;
const agents: FakeAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t?.cleanup();
  t = undefined;
});

async function connect(running: Parameters<FakeAgent['register']>[0] = {}): Promise<FakeAgent> {
  const agent = new FakeAgent(t!.clients.agents, 'n1');
  agents.push(agent);
  agent.register({ gpus: 1, ...running });
  await agent.next((m) => m.registered ?? undefined);
  return agent;
}

const get = (name: string): Promise<Session__Output> => unaryCall(t!.clients.sessions, t!.clients.sessions.Get, { name });

describe('time limits (nsml run --time)', () => {
  it.each([
    [{ timeLimitS: 0, startedMs: 5, placedMs: 1 }, undefined],
    [{ timeLimitS: 60, startedMs: 0, placedMs: 0 }, undefined],
    [{ timeLimitS: 60, startedMs: 5_000, placedMs: 1_000 }, 65_000],
    [{ timeLimitS: 60, startedMs: 5_000, placedMs: 90_000 }, 150_000], // requeued: its new run gets the full time
  ])('deadline of %j is %j', (s, deadline) => expect(timeLimitDeadline(s)).toBe(deadline));

  it('tells a time-limit stop from a stop asked before the limit', () => {
    const s = { timeLimitS: 10, startedMs: 1_000, placedMs: 500 };
    expect(stoppedByTimeLimit({ ...s, stopRequestedMs: 11_000 })).toBe(true);
    expect(stoppedByTimeLimit({ ...s, stopRequestedMs: 10_999 })).toBe(false);
    expect(stoppedByTimeLimit({ ...s, stopRequestedMs: 0 })).toBe(false);
  });

  it.each([[7200, '2h'], [5400, '1h30m'], [45, '45s'], [93_600, '1d2h'], [0, '0s']])('%i s is written %s', (s, text) => expect(formatSeconds(s)).toBe(text));

  it('a limit that passed while the coordinator was down stops the session after the restart: stopped, "time limit 2h reached"', async () => {
    const clock = new MovableClock();
    t = await startTestCoordinator({ clock, stopGraceMs: 300 });
    const workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
    const agent = await connect();
    const s = await unaryCall(t.clients.sessions, t.clients.sessions.Submit, { entry: 'main.py', workspace, timeLimitS: 7200 });
    await agent.next((m) => (m.start?.session === s.name ? m.start : undefined));
    agent.sendStatus(s.name, 1, 0, 'running');
    for (let i = 0; i < 100 && (await get(s.name)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await get(s.name)).timeLimitS).toBe(7200);
    expect(agent.received.some((m) => m.stop)).toBe(false);

    await t.coordinator.close();
    await agent.waitEnded();
    clock.ms += 2 * 3_600_000 + 1000;
    await t.restart();
    const again = await connect({ running: [{ session: s.name, epoch: 1, rank: 0, pid: 7, state: 'running' }] });
    const stop = await again.next((m) => (m.stop?.session === s.name ? m.stop : undefined));
    expect(stop).toMatchObject({ epoch: 1, reason: 'time limit 2h reached' });
    expect(Number(stop.graceMs)).toBe(300);
    expect((await get(s.name)).reason).toBe('stopping: time limit 2h reached');
    again.sendStatus(s.name, 1, 0, 'exited', { signal: 'SIGTERM' });
    const ended = await unaryCall(t.clients.sessions, t.clients.sessions.Wait, { name: s.name, timeoutMs: 10_000 }, 'alice', 15_000);
    expect(ended).toMatchObject({ state: 'stopped', reason: 'time limit 2h reached' });
  });
});

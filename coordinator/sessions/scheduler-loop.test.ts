import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { decideDefault } from '../scheduler/index.js';
import type { Decide } from '../scheduler/types.js';
import { SchedulerLoop } from './scheduler-loop.js';
import { type RecordingLink, World } from './test-fixtures/world.js';

const HOUR = 3_600_000;
let w: World;
let n1: RecordingLink;
let loop: SchedulerLoop;

function makeLoop(decide: Decide = decideDefault): SchedulerLoop {
  return new SchedulerLoop({ store: w.store, agents: w.agents, lifecycle: w.lifecycle, decide, clock: w.clock, logger: silentLogger, intervalMs: HOUR, usageHalfLifeMs: 7 * 24 * HOUR });
}

beforeEach(() => {
  w = new World(500);
  n1 = w.addNode('n1', 2);
  loop = makeLoop();
});
afterEach(() => {
  loop.close();
  w.close();
});

describe('SchedulerLoop with the default policy', () => {
  it('preempts a low-priority session for a high one, places the high one once the victim exited, then resumes the victim', () => {
    const low = w.submit({ gpus: 2 }).name;
    loop.pass();
    expect(w.get(low)).toMatchObject({ state: 'starting', epoch: 1 });
    w.report(low, 'running');
    w.clock.ms += 60_000;
    const high = w.submit({ gpus: 2, priority: 10 }).name;
    loop.pass();
    expect(loop.status.preempted).toBe(1);
    expect(n1.stops()).toMatchObject([{ session: low, checkpoint: true, graceMs: 500 }]);
    expect(w.get(high).state).toBe('queued');
    expect(w.get(high).reason).toContain('checkpointing and stopping');

    loop.pass();
    expect(n1.stops()).toHaveLength(1);
    w.clock.ms += 1_000;
    w.report(low, 'exited', 143);
    expect(w.get(low)).toMatchObject({ state: 'queued', preemptions: 1 });
    loop.pass();
    expect(w.get(high)).toMatchObject({ state: 'starting', epoch: 1 });
    expect(w.get(low).state).toBe('queued');

    w.report(high, 'running');
    w.report(high, 'exited', 0);
    loop.pass();
    expect(w.get(low)).toMatchObject({ state: 'starting', epoch: 2 });
    expect(w.get(low).attainedGpuMs).toBe(2 * 61_000);
  });

  it('accrues each user’s usage on every pass, even with nothing queued', () => {
    const s = w.submit({ gpus: 2 }).name;
    loop.pass();
    w.report(s, 'running');
    w.clock.ms += HOUR;
    loop.pass();
    const alice = w.store.usage().find((u) => u.user === 'alice')!;
    expect(alice.gpuSeconds).toBeGreaterThan(7000);
    expect(alice.gpuSeconds).toBeLessThan(7200);
    expect(alice.updatedMs).toBe(w.clock.ms);
  });

  it('shows the queue in the policy order with the wait reasons, without applying anything', () => {
    const holder = w.submit({ gpus: 1 }).name;
    loop.pass();
    w.report(holder, 'running');
    const big = w.submit({ gpus: 2 }).name;
    const urgent = w.submit({ gpus: 2, priority: 5 }).name;
    const { entries } = loop.queue();
    expect(entries.map((e) => e.sessionId)).toEqual([urgent, big]);
    expect(entries[1]!.reason?.kind).toBe('priority');
    expect(loop.why(big).position).toBe(2);
    expect(w.get(big).state).toBe('queued');
    expect(n1.stops()).toEqual([]);
    expect(() => loop.why(holder)).toThrow(expect.objectContaining({ code: 'NSML_E_SESSION_NOT_FOUND' }));
  });
});

describe('SchedulerLoop wake-ups', () => {
  it('runs a pass at the time the plan asks for, with no change and a long interval', async () => {
    let calls = 0;
    const decide: Decide = (snapshot, now) => {
      calls++;
      return { placements: [], preemptions: [], waiting: snapshot.pending.map((p) => ({ sessionId: p.id, kind: 'resources', message: 'x' })), wakeAtMs: now + 20 };
    };
    loop.close();
    loop = makeLoop(decide);
    w.submit({ gpus: 8 });
    loop.start();
    const until = Date.now() + 10_000;
    while (calls < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(loop.status.wakeAtMs).toBe(w.clock.now() + 20);
  });
});

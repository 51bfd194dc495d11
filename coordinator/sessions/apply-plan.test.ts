import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../scheduler/types.js';
import { applyPlan } from './apply-plan.js';
import { Effects } from './effects.js';
import { type RecordingLink, World } from './test-fixtures/world.js';

let w: World;
let n1: RecordingLink;

beforeEach(() => {
  w = new World(500);
  n1 = w.addNode('n1', 2);
});
afterEach(() => w.close());

const place = (sessionId: string, gpuIndices: number[], nodeId = 'n1') => ({ sessionId, assignments: [{ nodeId, gpuIndices, rank: 0 }] });
const plan = (over: Partial<Plan>): Plan => ({ placements: [], preemptions: [], waiting: [], ...over });

function apply(p: Plan, nowMs = w.clock.now()) {
  const fx = new Effects();
  const out = w.store.transaction(() => applyPlan(w.lifecycle.ops, fx, p, nowMs, w.stopGraceMs));
  return { out, fx };
}

describe('applyPlan: placements', () => {
  it('places, bumps the epoch, records the event and the placement time, picks distinct master ports', () => {
    const a = w.submit();
    const b = w.submit();
    const { out } = apply(plan({ placements: [place(a.name, [0]), place(b.name, [1])] }), 10);
    expect(out.placed).toEqual([a.name, b.name]);
    expect(w.get(a.name)).toMatchObject({ state: 'scheduled', epoch: 1, placedMs: 10 });
    expect(w.get(a.name).masterPort).not.toBe(w.get(b.name).masterPort);
    expect(w.store.events(a.name).map((e) => e.state)).toEqual(['queued', 'scheduled']);
    expect(w.store.assignments(a.name, 1)[0]).toMatchObject({ nodeId: 'n1', gpuIndices: [0], state: 'pending' });
  });

  it.each([
    ['a GPU taken in the same plan', (a: string, b: string) => [place(a, [0]), place(b, [0])], 'already taken'],
    ['an unknown node', (a: string, b: string) => [place(a, [0]), place(b, [1], 'nx')], 'not up'],
    ['a GPU the node lacks', (a: string, b: string) => [place(a, [0]), place(b, [7])], 'no GPU 7'],
  ])('rejects %s and keeps the rest', (_what, placements, why) => {
    const a = w.submit();
    const b = w.submit();
    const { out } = apply(plan({ placements: placements(a.name, b.name) }));
    expect(out.placed).toEqual([a.name]);
    expect(out.rejected[0]!.why).toContain(why);
    expect(w.get(b.name).state).toBe('queued');
  });

  it('rejects a session that is no longer queued and stores wait reasons', () => {
    const a = w.submit();
    const b = w.submit();
    w.store.updateSession(a.name, { state: 'stopped' });
    const { out } = apply(plan({ placements: [place(a.name, [0])], waiting: [{ sessionId: b.name, kind: 'resources', message: 'needs 1 GPUs; 0 free' }] }));
    expect(out.rejected[0]!.why).toContain('no longer queued');
    expect(w.get(b.name).reason).toBe('needs 1 GPUs; 0 free');
  });

  it('sends start in the same step when applied through the lifecycle', () => {
    const a = w.submit();
    const out = w.lifecycle.applyPlan(plan({ placements: [place(a.name, [1])] }), w.clock.now());
    expect(out.placed).toEqual([a.name]);
    expect(n1.starts()).toMatchObject([{ session: a.name, epoch: 1, gpuIndices: [1] }]);
    expect(w.get(a.name).state).toBe('starting');
  });
});

describe('applyPlan: preemption', () => {
  /** A low-priority session running on both GPUs since t=1000, and a high-priority one queued. */
  function running(): { low: string; high: string } {
    const low = w.submit({ gpus: 2 }).name;
    w.clock.ms = 1_000;
    w.lifecycle.applyPlan(plan({ placements: [place(low, [0, 1])] }), w.clock.now());
    w.report(low, 'running');
    const high = w.submit({ gpus: 2, priority: 10 }).name;
    return { low, high };
  }

  it('marks the victim, asks it to save and stop within the grace period, and keeps its GPUs until it exits', () => {
    const { low, high } = running();
    w.clock.ms = 5_000;
    const out = w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: `preempted for ${high}` }] }), w.clock.now());
    expect(out.preempted).toEqual([low]);
    expect(w.get(low)).toMatchObject({ state: 'running', stopRequestedMs: 5_000, stopGraceMs: 500, preemptedFor: high, reason: `preempting for ${high}` });
    expect(n1.stops()).toEqual([{ session: low, epoch: 1, graceMs: 500, checkpoint: true, reason: expect.stringContaining(`preempting for ${high}`) }]);
    expect(w.store.events(low).at(-1)).toMatchObject({ state: 'running', reason: `preempting for ${high}` });
    expect(w.store.activeAssignments().map((a) => a.session)).toEqual([low]);
  });

  it('a heartbeat that still lists the victim does not repeat the stop while it saves within its grace', () => {
    const { low, high } = running();
    w.clock.ms = 5_000;
    w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    const listed = [{ session: low, epoch: 1, rank: 0, pid: 42, state: 'running' }];
    w.clock.ms = 5_200;
    w.lifecycle.checkRunning('n1', listed);
    expect(n1.stops()).toHaveLength(1);
    // Long past the grace and a heartbeat timeout: the stop is repeated, still asking to save.
    w.clock.ms = 60_000;
    w.lifecycle.checkRunning('n1', listed);
    expect(n1.stops()).toHaveLength(2);
    expect(n1.stops()[1]).toMatchObject({ session: low, epoch: 1, checkpoint: true });
  });

  it('ends the run preempted once every rank exited, requeues the same name and bumps the epoch at the next placement', () => {
    const { low, high } = running();
    w.clock.ms = 5_000;
    w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    w.clock.ms = 6_000;
    w.report(low, 'exited', 143);
    const row = w.get(low);
    expect(row).toMatchObject({ state: 'queued', queuedMs: 6_000, placedMs: 0, preemptedFor: '', stopRequestedMs: 0, preemptions: 1, epoch: 1 });
    expect(row.attainedGpuMs).toBe(2 * (6_000 - 1_000));
    expect(row.reason).toContain(`preempted for ${high}`);
    const states = w.store.events(low).map((e) => e.state);
    expect(states.slice(-2)).toEqual(['preempted', 'queued']);
    expect(w.store.events(low).find((e) => e.state === 'preempted')!.reason).toBe(`preempted for ${high}`);
    expect(w.store.activeAssignments()).toEqual([]);

    w.lifecycle.applyPlan(plan({ placements: [place(high, [0, 1])] }), w.clock.now());
    w.report(high, 'running');
    w.report(high, 'exited', 0);
    w.lifecycle.applyPlan(plan({ placements: [place(low, [0, 1])] }), w.clock.now());
    expect(w.get(low)).toMatchObject({ state: 'starting', epoch: 2, placedMs: 6_000 });
    expect(n1.starts().at(-1)).toMatchObject({ session: low, epoch: 2 });
  });

  it('resumes a requeued session from its newest checkpoint', () => {
    const { low, high } = running();
    w.store.checkpoints.put({ session: low, name: 'e3', epoch: 1, manifest: 'a'.repeat(64), files: 1, bytes: 1, summary: {}, source: 'sdk', createdMs: 3_000 });
    w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    w.report(low, 'exited', 0);
    w.store.updateSession(high, { state: 'stopped' });
    w.lifecycle.applyPlan(plan({ placements: [place(low, [0, 1])] }), w.clock.now());
    expect(n1.starts().at(-1)!.env).toMatchObject({ NSML_RESUME_FROM: low, NSML_RESUME_CHECKPOINT: 'e3' });
  });

  it('starts a first run, or a requeued one without a checkpoint, with no resume variables', () => {
    const { low, high } = running();
    expect(n1.starts()[0]!.env).not.toHaveProperty('NSML_RESUME_CHECKPOINT');
    w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    w.report(low, 'exited', 0);
    w.store.updateSession(high, { state: 'stopped' });
    w.lifecycle.applyPlan(plan({ placements: [place(low, [0, 1])] }), w.clock.now());
    expect(n1.starts().at(-1)!.env).not.toHaveProperty('NSML_RESUME_FROM');
  });

  it('requeues at once a victim whose ranks were never started', () => {
    const low = w.submit({ gpus: 1 }).name;
    const high = w.submit({ gpus: 1, priority: 5 }).name;
    w.store.transaction(() => applyPlan(w.lifecycle.ops, new Effects(), plan({ placements: [place(low, [0])] }), 10, 500));
    const { out, fx } = apply(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }));
    expect(out.preempted).toEqual([low]);
    expect(fx.messages).toEqual([]);
    expect(w.get(low)).toMatchObject({ state: 'queued', preemptions: 1 });
  });

  it('ends stopped, not requeued, when the user stops it while it is being preempted', () => {
    const { low, high } = running();
    w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    w.lifecycle.requestStop(low, 'alice', 500);
    w.report(low, 'exited', 143);
    expect(w.get(low)).toMatchObject({ state: 'stopped', preemptions: 0 });
  });

  it.each([
    ['a victim already stopping', (low: string) => w.store.updateSession(low, { stopRequestedMs: 1 }), 'already stopping'],
    ['a victim that ended', (low: string) => w.store.updateSession(low, { state: 'succeeded' }), 'no longer holds'],
    ['a pending session that is gone', (_low: string, high: string) => w.store.updateSession(high, { state: 'stopped' }), 'no longer queued'],
  ])('skips a stale preemption: %s', (_what, change, why) => {
    const { low, high } = running();
    change(low, high);
    const before = n1.stops().length;
    const out = w.lifecycle.applyPlan(plan({ preemptions: [{ sessionId: low, forSessionId: high, reason: '' }] }), w.clock.now());
    expect(out.preempted).toEqual([]);
    expect(out.rejected[0]!.why).toContain(why);
    expect(n1.stops().length).toBe(before);
  });
});

import { describe, expect, it } from 'vitest';
import { createDefaultPolicy, decideDefault } from './default-policy.js';
import { checkPlan } from './plan-check.js';
import { nodes, pend, placedOn, reasonOf, run, snapshot } from './test-fixtures/harness.js';

const HOUR = 3_600_000;
const NOW = 100 * HOUR;

/** A session submitted now (so not starving) unless told otherwise. */
const fresh = (id: string, gpus: number, extra: Parameters<typeof pend>[2] = {}) => pend(id, gpus, { submittedAtMs: NOW, ...extra });

describe('default policy: order', () => {
  it('puts higher priority first, then fresh sessions before ones that already had service', () => {
    const s = snapshot({
      nodes: nodes(1, 2),
      pending: [pend('served', 1, { attainedGpuMs: 10 * HOUR, submittedAtMs: NOW - 3 * HOUR }), pend('fresh', 1, { submittedAtMs: NOW - HOUR }), pend('urgent', 1, { priority: 5, submittedAtMs: NOW })],
    });
    const plan = decideDefault(s, NOW);
    expect(plan.order).toEqual(['urgent', 'fresh', 'served']);
    expect(plan.placements.map((p) => p.sessionId)).toEqual(['urgent', 'fresh']);
  });

  it('between users, the one with less decayed usage goes first', () => {
    const s = snapshot({ nodes: nodes(1, 1), pending: [fresh('a', 1, { user: 'alice' }), fresh('b', 1, { user: 'bob' })], usageByUser: { alice: 5000, bob: 10 } });
    expect(decideDefault(s, NOW).placements.map((p) => p.sessionId)).toEqual(['b']);
  });

  it('starving sessions go first, oldest first', () => {
    const s = snapshot({ nodes: nodes(1, 1), pending: [pend('new', 1, { submittedAtMs: NOW - HOUR }), pend('old', 1, { submittedAtMs: NOW - 60 * HOUR, attainedGpuMs: 100 * HOUR })] });
    expect(decideDefault(s, NOW).order).toEqual(['old', 'new']);
  });

  it('asks to be woken when the next session starts starving', () => {
    const s = snapshot({ nodes: nodes(1, 1), running: [run('r', { n0: [0] }, { startedAtMs: NOW })], pending: [pend('a', 1, { submittedAtMs: NOW - HOUR })] });
    const plan = createDefaultPolicy({ preemption: false })(s, NOW);
    expect(plan.wakeAtMs).toBe(NOW - HOUR + 48 * HOUR);
  });
});

describe('default policy: preemption', () => {
  it('preempts the lower-priority gang that loses the least work, and holds its node', () => {
    const s = snapshot({
      nodes: nodes(2),
      running: [
        run('fresh-ckpt', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }, { startedAtMs: NOW - 10 * HOUR, lastCheckpointAtMs: NOW - 60_000 }),
        run('stale', { n1: [0, 1, 2, 3, 4, 5, 6, 7] }, { startedAtMs: NOW - 10 * HOUR, lastCheckpointAtMs: NOW - 2 * HOUR }),
      ],
      pending: [fresh('vip', 8, { priority: 1 }), fresh('other', 1)],
    });
    // 'other' may not preempt 'stale' for service: that would lose two hours of eight GPUs' work.
    const plan = decideDefault(s, NOW);
    expect(plan.preemptions).toEqual([{ sessionId: 'fresh-ckpt', forSessionId: 'vip', reason: 'preempted for vip', lostGpuMs: 8 * 60_000 }]);
    expect(plan.reservations).toContainEqual({ sessionId: 'vip', nodeIds: ['n0'], preempting: true });
    expect(plan.placements).toEqual([]);
    expect(reasonOf(plan, 'vip')!.message).toMatch(/1 session\(s\) are checkpointing and stopping to make room for it on n0/);
  });

  it('takes whole gangs: a two-node victim frees both nodes and its whole lost work counts', () => {
    const s = snapshot({
      nodes: nodes(3),
      running: [
        run('gang', { n0: [0, 1, 2, 3, 4, 5, 6, 7], n1: [0, 1, 2, 3, 4, 5, 6, 7] }, { startedAtMs: NOW - HOUR }),
        ...[0, 1, 2, 3, 4, 5, 6, 7].map((g) => run(`one${g}`, { n2: [g] }, { startedAtMs: NOW - 2 * HOUR, lastCheckpointAtMs: NOW - 10 * 60_000 })),
      ],
      pending: [fresh('vip', 8, { priority: 1 })],
    });
    const plan = decideDefault(s, NOW);
    expect(plan.preemptions.map((p) => p.sessionId).sort()).toEqual(['one0', 'one1', 'one2', 'one3', 'one4', 'one5', 'one6', 'one7']);
    expect(checkPlan(s, plan)).toEqual([]);
  });

  it('never preempts higher priority, a non-preemptible session, or one already stopping', () => {
    const s = snapshot({
      nodes: nodes(3, 1),
      running: [run('boss', { n0: [0] }, { priority: 9 }), run('pinned', { n1: [0] }, { preemptible: false }), run('leaving', { n2: [0] }, { stopping: true })],
      pending: [fresh('vip', 1, { priority: 1 })],
    });
    const plan = decideDefault(s, NOW);
    expect(plan.preemptions).toEqual([]);
    expect(reasonOf(plan, 'vip')?.kind).toBe('resources');
  });

  it('keeps holding the nodes of a victim that is still stopping, in the rounds after the preemption', () => {
    const s = snapshot({
      nodes: nodes(2, 1),
      running: [run('victim', { n0: [0] }, { stopping: true }), run('busy', { n1: [0] }, { priority: 5 })],
      pending: [fresh('vip', 1, { priority: 1 }), fresh('small', 1)],
    });
    const plan = decideDefault(s, NOW);
    expect(plan.preemptions).toEqual([]);
    expect(plan.reservations).toContainEqual({ sessionId: 'vip', nodeIds: ['n0'], preempting: true });
    expect(reasonOf(plan, 'vip')!.message).toMatch(/checkpointing and stopping to make room for it on n0/);
  });

  it('a starving session takes back what was queued after it, not what was queued before', () => {
    const s = snapshot({
      nodes: nodes(2, 1),
      running: [run('before', { n0: [0] }, { queuedAtMs: NOW - 80 * HOUR, startedAtMs: NOW - 70 * HOUR }), run('after', { n1: [0] }, { queuedAtMs: NOW - 10 * HOUR, startedAtMs: NOW - 10 * HOUR })],
      pending: [pend('starving', 1, { submittedAtMs: NOW - 50 * HOUR })],
    });
    const plan = decideDefault(s, NOW);
    expect(plan.preemptions.map((p) => p.sessionId)).toEqual(['after']);
  });

  it('a fresh session preempts one that has had much more service, after its minimum run, if it saved lately', () => {
    const base = { nodes: nodes(1, 1), pending: [pend('fresh', 1, { submittedAtMs: NOW })] };
    const long = run('long', { n0: [0] }, { startedAtMs: NOW - 10 * HOUR, lastCheckpointAtMs: NOW - 10 * 60_000 });
    const unsaved = run('unsaved', { n0: [0] }, { startedAtMs: NOW - 10 * HOUR });
    const young = run('young', { n0: [0] }, { startedAtMs: NOW - 10 * 60_000, attainedGpuMs: 100 * HOUR });
    expect(decideDefault(snapshot({ ...base, running: [long] }), NOW).preemptions.map((p) => p.sessionId)).toEqual(['long']);
    expect(decideDefault(snapshot({ ...base, running: [young] }), NOW).preemptions).toEqual([]);
    expect(decideDefault(snapshot({ ...base, running: [unsaved] }), NOW).preemptions).toEqual([]);
    expect(createDefaultPolicy({ servicePreemption: false })(snapshot({ ...base, running: [long] }), NOW).preemptions).toEqual([]);
  });

  it('a user under its share preempts a user far over it', () => {
    const s = snapshot({
      nodes: nodes(1, 1),
      running: [run('hog', { n0: [0] }, { user: 'alice', startedAtMs: NOW - 2 * HOUR, lastCheckpointAtMs: NOW - 60_000 })],
      pending: [pend('mine', 1, { user: 'bob', submittedAtMs: NOW })],
      usageByUser: { alice: 1_000_000, bob: 10 },
    });
    expect(createDefaultPolicy({ servicePreemption: false })(s, NOW).preemptions.map((p) => p.sessionId)).toEqual(['hog']);
  });

  it('with preemption off, nothing is preempted', () => {
    const s = snapshot({ nodes: nodes(1, 1), running: [run('r', { n0: [0] })], pending: [fresh('vip', 1, { priority: 3 })] });
    expect(createDefaultPolicy({ preemption: false })(s, NOW).preemptions).toEqual([]);
  });
});

describe('default policy: reservations and backfill', () => {
  it('a starving head with known run times gets the EASY reservation; only what ends before it backfills', () => {
    const running = [
      run('r0', { n0: [0, 1, 2, 3] }, { expectedDurationMs: 5 * HOUR, startedAtMs: NOW - HOUR, preemptible: false }),
      run('r1', { n1: [0, 1, 2, 3, 4, 5] }, { expectedDurationMs: 9 * HOUR, startedAtMs: NOW - HOUR, preemptible: false }),
    ];
    const head = pend('head', 8, { submittedAtMs: NOW - 49 * HOUR });
    const slow = decideDefault(snapshot({ nodes: nodes(2), running, pending: [head, fresh('slow', 4, { expectedDurationMs: 6 * HOUR }), fresh('side', 2)] }), NOW);
    expect(slow.reservations).toEqual([{ sessionId: 'head', nodeIds: ['n0'], startAtMs: NOW + 4 * HOUR }]);
    expect(placedOn(slow, 'slow')).toBeUndefined();
    expect(reasonOf(slow, 'slow')).toMatchObject({ kind: 'reservation', blockedBy: 'head' });
    expect(reasonOf(slow, 'slow')!.message).toMatch(/held for head, expected to start in 4h 00m/);
    expect(placedOn(slow, 'side')).toEqual(['n1']);
    const quick = decideDefault(snapshot({ nodes: nodes(2), running, pending: [head, fresh('quick', 4, { expectedDurationMs: 2 * HOUR })] }), NOW);
    expect(placedOn(quick, 'quick')).toEqual(['n0']);
  });

  it('rejects bad options with the names of the bad values', () => {
    expect(() => createDefaultPolicy({ starvationMs: -1, levelsGpuHours: [Number.NaN] })).toThrow(/starvationMs=-1, levelsGpuHours=NaN/);
  });
});

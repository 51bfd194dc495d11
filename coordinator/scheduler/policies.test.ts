import { describe, expect, it } from 'vitest';
import { decideBackfill, decideFifo, decideFirstFit, decideSjfOracle, policies } from './index.js';
import { checkPlan } from './plan-check.js';
import { nodes, pend, placedOn, reasonOf, run, snapshot } from './test-fixtures/harness.js';

describe('baseline policies', () => {
  const busy = () => snapshot({ nodes: nodes(1), running: [run('r', { n0: [0, 1, 2, 3, 4, 5] }, { expectedDurationMs: 100_000 })], pending: [pend('a', 4), pend('b', 1)] });

  it('fifo starts nothing behind a head that does not fit', () => {
    const plan = decideFifo(busy(), 10_000);
    expect(plan.placements).toEqual([]);
    expect(reasonOf(plan, 'b')).toMatchObject({ kind: 'reservation', blockedBy: 'a' });
    expect(reasonOf(plan, 'a')?.kind).toBe('resources');
  });

  it('first-fit starts anything that fits, in submission order', () => {
    const plan = decideFirstFit(busy(), 10_000);
    expect(plan.placements.map((p) => p.sessionId)).toEqual(['b']);
    expect(plan.order).toEqual(['a', 'b']);
  });

  it('backfill starts only what ends before the head’s reserved start', () => {
    const s = busy();
    s.pending = [pend('head', 4), pend('short', 1, { expectedDurationMs: 50_000 }), pend('long', 1, { expectedDurationMs: 200_000 }), pend('unknown', 1)];
    const plan = decideBackfill(s, 10_000);
    expect(plan.placements.map((p) => p.sessionId)).toEqual(['short']);
    expect(plan.reservations).toEqual([{ sessionId: 'head', nodeIds: ['n0'], startAtMs: 100_000 }]);
    expect(reasonOf(plan, 'long')).toMatchObject({ kind: 'reservation', blockedBy: 'head' });
    expect(reasonOf(plan, 'long')!.message).toMatch(/declared run time of 3m 20s would run past the start reserved for the head head \(in 1m 30s\)/);
    expect(reasonOf(plan, 'unknown')!.message).toMatch(/no declared run time/);
  });

  it('sjf-oracle starts the shortest first', () => {
    const s = snapshot({ nodes: nodes(1, 2), pending: [pend('a', 1, { expectedDurationMs: 300 }), pend('b', 1, { expectedDurationMs: 100 }), pend('c', 1, { expectedDurationMs: 200 })] });
    const plan = decideSjfOracle(s, 0);
    expect(plan.placements.map((p) => p.sessionId)).toEqual(['b', 'c']);
    expect(plan.order).toEqual(['b', 'c', 'a']);
  });

  it.each(Object.keys(policies))('%s: places whole gangs on whole nodes and never a quarantined GPU', (name) => {
    const ns = nodes(3);
    ns[2]!.unusableGpus = [0];
    const s = snapshot({ nodes: ns, pending: [pend('big', 16), pend('full', 8)] });
    const plan = policies[name]!(s, 0);
    expect(checkPlan(s, plan)).toEqual([]);
    expect(placedOn(plan, 'big')).toEqual(['n0', 'n1']);
    expect(placedOn(plan, 'full')).toBeUndefined();
    expect(reasonOf(plan, 'full')?.kind).toBe('quarantine');
    const seven = policies[name]!(snapshot({ nodes: ns, pending: [pend('seven', 7)], running: [run('r', { n0: [0, 1], n1: [0, 1] })] }), 0);
    expect(seven.placements[0]!.assignments).toEqual([{ nodeId: 'n2', gpuIndices: [1, 2, 3, 4, 5, 6, 7], rank: 0 }]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Capacity } from './capacity.js';
import { checkPlan, policies } from './index.js';
import type { NodeView, PendingSession, RunningSession, Snapshot } from './types.js';

const HOUR = 3_600_000;
const NOW = 1000 * HOUR;
const SIZES = [0, 1, 1, 1, 2, 3, 4, 8, 16];

const nodeArb = fc.record({
  gpus: fc.constantFrom(1, 2, 4, 8),
  quarantined: fc.nat(2),
  schedulable: fc.boolean().map((b) => b || Math.random() < 0.8),
  offers: fc.constantFrom<string[] | undefined>(undefined, undefined, ['python3', 'python3.11', 'python3.11.7'], ['containers'], ['python3', 'python3.10', 'python3.10.4', 'containers']),
});

const sessionArb = fc.record({
  size: fc.constantFrom(...SIZES),
  perNode: fc.constantFrom(0, 0, 0, 1, 2, 4),
  priority: fc.nat(2),
  user: fc.constantFrom('alice', 'bob', 'carol'),
  waitedH: fc.nat(100),
  attainedH: fc.constantFrom(0, 0, 1, 10, 100),
  expectedH: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
  stopping: fc.boolean().map((b) => b && Math.random() < 0.2),
  checkpointAgoMin: fc.option(fc.nat(300), { nil: undefined }),
  needs: fc.constantFrom<string[] | undefined>(undefined, undefined, undefined, [], ['python3.11'], ['containers'], ['python3.10', 'containers'], ['python3.12']),
});

/** A random but sound snapshot: running sessions are placed by the capacity model itself. */
const snapshotArb = fc.record({ nodes: fc.array(nodeArb, { minLength: 1, maxLength: 6 }), running: fc.array(sessionArb, { maxLength: 12 }), pending: fc.array(sessionArb, { maxLength: 20 }), usage: fc.array(fc.nat(100_000), { minLength: 3, maxLength: 3 }) }).map(build);

type SessionSpec = typeof sessionArb extends fc.Arbitrary<infer T> ? T : never;

function build(spec: { nodes: { gpus: number; quarantined: number; schedulable: boolean; offers: string[] | undefined }[]; running: SessionSpec[]; pending: SessionSpec[]; usage: number[] }): Snapshot {
  const nodes: NodeView[] = spec.nodes.map((n, i) => ({
    id: `n${i}`,
    gpus: Array.from({ length: n.gpus }, (_, g) => g),
    unusableGpus: Array.from({ length: Math.min(n.quarantined, n.gpus) }, (_, g) => n.gpus - 1 - g),
    cpus: 32,
    memoryMib: 0,
    schedulable: n.schedulable,
    ...(n.offers && { offers: n.offers }),
  }));
  const cap = Capacity.of(nodes, []);
  const running: RunningSession[] = [];
  spec.running.forEach((r, i) => {
    const gpus = Math.max(1, r.size);
    const perNode = Math.min(gpus, 8);
    if (gpus % perNode !== 0) return;
    const assignments = cap.place({ processes: gpus / perNode, perNode, cpus: 1, memoryMib: 0 });
    if (!assignments) return;
    running.push({
      id: `r${i}`,
      user: r.user,
      gpus,
      cpus: 1,
      memoryMib: 0,
      priority: r.priority,
      startedAtMs: NOW - r.waitedH * HOUR,
      assignments,
      stopping: r.stopping,
      queuedAtMs: NOW - (r.waitedH + 5) * HOUR,
      attainedGpuMs: r.attainedH * HOUR,
      ...(r.checkpointAgoMin !== undefined && { lastCheckpointAtMs: NOW - r.checkpointAgoMin * 60_000 }),
      ...(r.expectedH !== undefined && { expectedDurationMs: r.expectedH * HOUR }),
    });
  });
  const pending: PendingSession[] = spec.pending
    .map((p, i) => ({
      id: `p${i}`,
      user: p.user,
      gpus: p.size,
      gpusPerNode: p.perNode,
      cpus: 1,
      memoryMib: 0,
      priority: p.priority,
      submittedAtMs: NOW - p.waitedH * HOUR,
      attainedGpuMs: p.attainedH * HOUR,
      ...(p.expectedH !== undefined && { expectedDurationMs: p.expectedH * HOUR }),
      ...(p.needs && { needs: p.needs }),
    }))
    .sort((a, b) => a.submittedAtMs - b.submittedAtMs);
  return { nodes, running, pending, usageByUser: { alice: spec.usage[0]!, bob: spec.usage[1]!, carol: spec.usage[2]! } };
}

describe.each(Object.keys(policies))('policy %s (property)', (name) => {
  const decide = policies[name]!;

  it('places whole gangs only, books no GPU twice, never a quarantined one; accounts for every session', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const plan = decide(s, NOW);
        expect(checkPlan(s, plan)).toEqual([]);
        const placed = plan.placements.map((p) => p.sessionId);
        const waiting = plan.waiting.map((w) => w.sessionId);
        expect([...placed, ...waiting].sort()).toEqual(s.pending.map((p) => p.id).sort());
        expect([...(plan.order ?? [])].sort()).toEqual(s.pending.map((p) => p.id).sort());
        const live = new Set(s.running.filter((r) => !r.stopping).map((r) => r.id));
        for (const v of plan.preemptions) expect(live.has(v.sessionId)).toBe(true);
        expect(new Set(plan.preemptions.map((v) => v.sessionId)).size).toBe(plan.preemptions.length);
      }),
      { numRuns: 150 },
    );
  });

  it('is pure: the same snapshot gives the same plan and is left unchanged', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const before = structuredClone(s);
        const a = decide(s, NOW);
        expect(s).toEqual(before);
        expect(decide(s, NOW)).toEqual(a);
      }),
      { numRuns: 40 },
    );
  });
});

describe.each(Object.keys(policies))('needs, policy %s (property)', (name) => {
  const decide = policies[name]!;

  it('no placement puts a session on a node that lacks what it needs, and nothing is held or preempted for it elsewhere', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const plan = decide(s, NOW);
        const nodes = new Map(s.nodes.map((n) => [n.id, n]));
        const needs = new Map(s.pending.map((p) => [p.id, p.needs ?? []]));
        const offers = (nodeId: string, id: string) => needs.get(id)!.every((t) => nodes.get(nodeId)!.offers?.includes(t));
        for (const p of plan.placements) for (const a of p.assignments) expect(offers(a.nodeId, p.sessionId)).toBe(true);
        for (const r of plan.reservations ?? []) for (const id of r.nodeIds) expect(offers(id, r.sessionId)).toBe(true);
        for (const v of plan.preemptions) {
          const held = s.running.find((r) => r.id === v.sessionId)!.assignments.map((a) => a.nodeId);
          expect(held.some((id) => offers(id, v.forSessionId))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a session whose needs no node offers waits as never fitting, naming what is missing', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const plan = decide(s, NOW);
        for (const p of s.pending) {
          const missing = (p.needs ?? []).filter((t) => !s.nodes.some((n) => n.offers?.includes(t)));
          if (missing.length === 0) continue;
          const w = plan.waiting.find((x) => x.sessionId === p.id);
          expect(w?.kind).toBe('no-fit');
          for (const t of missing) expect(w!.message).toContain(t);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('priority (property)', () => {
  it('the default policy never preempts a session of higher priority than the one it makes room for', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const plan = policies['default']!(s, NOW);
        const prio = new Map([...s.running, ...s.pending].map((x) => [x.id, x.priority]));
        for (const v of plan.preemptions) expect(prio.get(v.sessionId)!).toBeLessThanOrEqual(prio.get(v.forSessionId)!);
      }),
      { numRuns: 150 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDefaultPolicy, policies, type Decide } from '../coordinator/scheduler/index.js';
import { simulate } from './simulator.js';
import type { TraceJob } from './trace.js';

/**
 * Properties of whole replays: the scheduler's promises over time, checked by running the
 * simulator (the same decide functions the coordinator calls) on small random traces.
 */

const MIN = 60;
const HOUR = 3600;

const traceArb = (sizes: number[], maxJobs: number, maxDurationS: number, spanS: number) =>
  fc
    .array(fc.record({ at: fc.nat(spanS), duration: fc.integer({ min: 60, max: maxDurationS }), gpus: fc.constantFrom(...sizes) }), { minLength: 1, maxLength: maxJobs })
    .map((jobs) => jobs.map((j, i): TraceJob => ({ id: `j${i}`, submissionS: j.at, durationS: j.duration, gpus: j.gpus, user: 'trace', priority: 0 })));

/** Wraps a policy to see every plan it makes. */
function watch(decide: Decide, see: (plan: ReturnType<Decide>, nowMs: number, snapshot: Parameters<Decide>[0]) => void): Decide {
  return (snapshot, nowMs) => {
    const plan = decide(snapshot, nowMs);
    see(plan, nowMs, snapshot);
    return plan;
  };
}

describe('backfill never delays the head’s reservation', () => {
  it('with declared run times, every head starts no later than any start it was promised', () => {
    fc.assert(
      fc.property(traceArb([1, 2, 4, 8, 16], 25, 100 * MIN, 2 * HOUR), fc.integer({ min: 2, max: 3 }), (trace, nodes) => {
        const promised = new Map<string, number>();
        const decide = watch(policies['backfill']!, (plan) => {
          for (const r of plan.reservations ?? []) if (r.startAtMs !== undefined) promised.set(r.sessionId, Math.min(promised.get(r.sessionId) ?? Infinity, r.startAtMs));
        });
        const run = simulate(trace, { nodes, gpusPerNode: 8, policy: 'backfill', decide, declareDurations: true });
        expect(run.unfinished).toBe(0);
        for (const o of run.outcomes) {
          const p = promised.get(o.id);
          if (p !== undefined) expect(o.firstStartMs).toBeLessThanOrEqual(p);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('no starvation past a bound', () => {
  const starvationMs = 2 * HOUR * 1000;
  const graceS = MIN;
  const restartS = 2 * MIN;
  const maxDurationS = HOUR;

  it('with the default policy every job starts within bound + (jobs queued before it + 1) × (longest run + restart + grace)', () => {
    fc.assert(
      fc.property(traceArb([1, 1, 1, 2, 4, 8], 30, maxDurationS, 6 * HOUR), (trace) => {
        const run = simulate(trace, { nodes: 2, gpusPerNode: 4, policy: 'default', decide: createDefaultPolicy({ starvationMs, gangStarvationMs: starvationMs }), graceMs: graceS * 1000, restartDelayMs: restartS * 1000 });
        expect(run.unfinished).toBe(0);
        for (const o of run.outcomes) {
          const before = run.outcomes.filter((x) => x.submitMs < o.submitMs).length;
          const bound = starvationMs + (before + 1) * (maxDurationS + restartS + graceS) * 1000;
          expect(o.firstStartMs - o.submitMs).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a big gang behind a steady stream of small jobs starts within the bound under the default policy, not under first-fit', () => {
    const stream = Array.from({ length: 240 }, (_, i): TraceJob => ({ id: `s${i}`, submissionS: i * 10 * MIN, durationS: HOUR, gpus: 1, user: 'trace', priority: 0 }));
    const trace = [...stream.slice(0, 6), { id: 'gang', submissionS: 30 * MIN + 1, durationS: HOUR, gpus: 8, user: 'trace', priority: 0 }, ...stream.slice(6)];
    const wait = (policy: string) => {
      const run = simulate(trace, { nodes: 2, gpusPerNode: 4, policy, ...(policy === 'default' && { decide: createDefaultPolicy({ starvationMs, gangStarvationMs: starvationMs }) }) });
      const gang = run.outcomes.find((o) => o.id === 'gang')!;
      return (gang.firstStartMs - gang.submitMs) / 1000;
    };
    expect(wait('default')).toBeLessThanOrEqual(starvationMs / 1000 + maxDurationS + graceS);
    expect(wait('first-fit')).toBeGreaterThan(24 * HOUR);
  });
});

describe('fair share with decayed usage', () => {
  it('converges to equal shares for equal users, whatever their past usage', () => {
    fc.assert(
      fc.property(
        fc.record({ gpus: fc.integer({ min: 1, max: 4 }), durationMin: fc.integer({ min: 30, max: 90 }), halfLifeH: fc.integer({ min: 1, max: 2 }), pastGpuH: fc.nat(200) }),
        ({ gpus, durationMin, halfLifeH, pastGpuH }) => {
          const horizonS = 16 * halfLifeH * HOUR;
          const perUser = Math.ceil((horizonS * gpus) / (durationMin * MIN)) + gpus;
          const trace: TraceJob[] = [];
          // All of alice's sessions are queued before bob's: submission order alone would serve her first.
          for (const [k, user] of ['alice', 'bob'].entries()) for (let i = 0; i < perUser; i++) trace.push({ id: `${user}${i}`, submissionS: k, durationS: durationMin * MIN, gpus: 1, user, priority: 0 });
          // Time-weighted mean of each user's decayed usage over the second half of the horizon.
          const mean = { alice: 0, bob: 0 };
          let last: { t: number; usage: Record<string, number> } | undefined;
          const decide = watch(policies['default']!, (_plan, nowMs, snapshot) => {
            const t = Math.min(nowMs, horizonS * 1000);
            if (last && t > horizonS * 500) {
              const dt = t - Math.max(last.t, horizonS * 500);
              mean.alice += (last.usage['alice'] ?? 0) * dt;
              mean.bob += (last.usage['bob'] ?? 0) * dt;
            }
            last = { t, usage: snapshot.usageByUser ?? {} };
          });
          simulate(trace, { nodes: 1, gpusPerNode: gpus, policy: 'default', decide, halfLifeMs: halfLifeH * HOUR * 1000, initialUsage: { alice: pastGpuH * HOUR } });
          expect(mean.alice + mean.bob).toBeGreaterThan(0);
          expect(Math.abs(mean.alice - mean.bob) / (mean.alice + mean.bob)).toBeLessThan(0.1);
        },
      ),
      { numRuns: 15 },
    );
  });
});

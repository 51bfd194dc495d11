import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulator.js';
import { readTrace, type TraceJob } from './trace.js';

const job = (id: string, submissionS: number, durationS: number, gpus: number, extra: Partial<TraceJob> = {}): TraceJob => ({ id, submissionS, durationS, gpus, user: 'trace', priority: 0, ...extra });
const jcts = (run: ReturnType<typeof simulate>) => Object.fromEntries(run.outcomes.map((o) => [o.id, (o.finishMs - o.submitMs) / 1000]));

const TRACES = join(import.meta.dirname, '..', '..', 'shared', 'traces', 'itp-elasticflow');

describe('simulate', () => {
  const trace = [job('A', 0, 100, 2), job('B', 10, 100, 4), job('C', 20, 10, 1)];

  it.each([
    { policy: 'fifo', expected: { A: 100, B: 190, C: 190 } },
    { policy: 'first-fit', expected: { A: 100, B: 190, C: 10 } },
    { policy: 'backfill', expected: { A: 100, B: 190, C: 10 } },
    { policy: 'sjf-oracle', expected: { A: 100, B: 190, C: 10 } },
    { policy: 'default', expected: { A: 100, B: 190, C: 10 } },
  ])('$policy replays a small trace exactly', ({ policy, expected }) => {
    const run = simulate(trace, { nodes: 1, gpusPerNode: 4, policy });
    expect(jcts(run)).toEqual(expected);
    expect(run.result.jobs).toBe(3);
    expect(run.result.makespanS).toBe(policy === 'fifo' ? 210 : 200);
  });

  it('re-bases time and scales submit times', () => {
    const run = simulate([job('a', 1000, 10, 1), job('b', 1010, 10, 1)], { nodes: 1, gpusPerNode: 1, policy: 'fifo', submitScale: 2 });
    expect(run.outcomes.map((o) => [o.submitMs, o.firstStartMs])).toEqual([[0, 0], [20_000, 20_000]]);
  });

  it('charges a preemption the work since the last checkpoint plus a restart delay', () => {
    const HOUR = 3600;
    const run = simulate([job('low', 0, 3 * HOUR, 1), job('high', HOUR, HOUR, 1, { priority: 1 })], { nodes: 1, gpusPerNode: 1, policy: 'default' });
    // high asks at 1h; low saves nothing past its 30m checkpoints, stops after a 1m grace,
    // resumes from 1h of work when high ends at 2h01m, and spends 2m restarting.
    expect(jcts(run)).toEqual({ low: 4 * HOUR + 3 * 60, high: HOUR + 60 });
    expect(run.result.preemptions).toBe(1);
    expect(run.result.utilization).toBeCloseTo((4 * HOUR) / (4 * HOUR + 180), 6);
  });

  it('counts jobs that can never fit as unfinished', () => {
    const run = simulate([job('big', 0, 10, 16), job('ok', 0, 10, 1)], { nodes: 1, gpusPerNode: 8, policy: 'default' });
    expect(run.unfinished).toBe(1);
    expect(run.result.jobs).toBe(1);
  });

  it('rejects an unknown policy and bad sizes', () => {
    expect(() => simulate(trace, { nodes: 1, gpusPerNode: 4, policy: 'lottery' })).toThrow(/unknown policy "lottery"; expected one of default, fifo/);
    expect(() => simulate(trace, { nodes: 0, gpusPerNode: 4 })).toThrow(/nodes: expected a number > 0/);
  });

  it.skipIf(!existsSync(TRACES))('reproduces the reference EASY backfill figures for cluster02 on 64 GPUs, submit × 2', () => {
    const run = simulate(readTrace(join(TRACES, 'cluster02.csv')), { nodes: 8, gpusPerNode: 8, submitScale: 2, policy: 'backfill' });
    const h = (s: number) => s / 3600;
    expect(h(run.result.avgJctS)).toBeCloseTo(18.03, 1);
    expect(h(run.result.p50JctS)).toBeCloseTo(1.45, 1);
    expect(h(run.result.avgQueueS)).toBeCloseTo(13.31, 1);
    expect(run.result.utilization).toBeCloseTo(0.495, 2);
  });
});

/** What happened to one job in a simulation. */
export interface JobOutcome {
  id: string;
  gpus: number;
  submitMs: number;
  durationMs: number;
  firstStartMs: number;
  finishMs: number;
  preemptions: number;
}

export interface GangClass {
  jobs: number;
  avgJctS: number;
}

/** The figures `nsml sim --json` prints (times in seconds). */
export interface SimResult {
  policy: string;
  jobs: number;
  avgJctS: number;
  p50JctS: number;
  p99JctS: number;
  avgQueueS: number;
  utilization: number;
  makespanS: number;
  preemptions: number;
  decisionsPerS: number;
  byGangSize: { '1': GangClass; '2-8': GangClass; '>8': GangClass };
}

/** Linear interpolation between closest ranks (numpy's default). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function gangClassOf(gpus: number): '1' | '2-8' | '>8' {
  return gpus <= 1 ? '1' : gpus <= 8 ? '2-8' : '>8';
}

/**
 * JCT = finish − submit; queueing delay = first start − submit; utilization = useful
 * GPU-time ÷ (GPUs × makespan), makespan = last finish − first submit (work lost to
 * preemption is not useful).
 */
export function summarize(policy: string, outcomes: JobOutcome[], totalGpus: number, decisionsPerS: number): SimResult {
  const done = outcomes.filter((o) => Number.isFinite(o.finishMs));
  const jct = done.map((o) => (o.finishMs - o.submitMs) / 1000).sort((a, b) => a - b);
  const first = outcomes.reduce((m, o) => Math.min(m, o.submitMs), Infinity);
  const last = done.reduce((m, o) => Math.max(m, o.finishMs), first);
  const makespanS = (last - first) / 1000;
  const work = done.reduce((n, o) => n + (o.gpus * o.durationMs) / 1000, 0);
  const byGangSize = { '1': cls(done, '1'), '2-8': cls(done, '2-8'), '>8': cls(done, '>8') };
  return {
    policy,
    jobs: done.length,
    avgJctS: mean(jct),
    p50JctS: percentile(jct, 0.5),
    p99JctS: percentile(jct, 0.99),
    avgQueueS: mean(done.map((o) => (o.firstStartMs - o.submitMs) / 1000)),
    utilization: makespanS > 0 ? work / (totalGpus * makespanS) : 0,
    makespanS,
    preemptions: outcomes.reduce((n, o) => n + o.preemptions, 0),
    decisionsPerS,
    byGangSize,
  };
}

function cls(done: JobOutcome[], name: '1' | '2-8' | '>8'): GangClass {
  const mine = done.filter((o) => gangClassOf(o.gpus) === name);
  return { jobs: mine.length, avgJctS: mean(mine.map((o) => (o.finishMs - o.submitMs) / 1000)) };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

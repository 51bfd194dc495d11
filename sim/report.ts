import { gangClassOf } from './metrics.js';
import type { SimRun } from './simulator.js';

export interface ReportContext {
  trace: string;
  nodes: number;
  gpusPerNode: number;
  submitScale: number;
  checkpointIntervalMs: number;
  restartDelayMs: number;
  graceMs: number;
}

const h = (s: number): string => `${(s / 3600).toFixed(2)} h`;
const min = (ms: number): string => `${Math.round(ms / 60_000)}m`;

/** The human form of a replay's figures (times in hours). */
export function formatSimReport(run: SimRun, c: ReportContext): string {
  const x = run.result;
  const classes = (['1', '2-8', '>8'] as const)
    .filter((k) => x.byGangSize[k].jobs > 0)
    .map((k) => `  ${k === '1' ? '1 GPU   ' : k === '2-8' ? '2–8 GPUs' : '>8 GPUs '}  ${String(x.byGangSize[k].jobs).padStart(6)} jobs  avg JCT ${h(x.byGangSize[k].avgJctS)}  max ${h(maxJct(run, k))}`);
  const lines = [
    `policy ${x.policy} on ${c.trace}: ${c.nodes} nodes × ${c.gpusPerNode} GPUs, submit × ${c.submitScale}, ${x.jobs} jobs finished${run.unfinished > 0 ? `, ${run.unfinished} never finished` : ''}`,
    `JCT             avg ${h(x.avgJctS)}   p50 ${h(x.p50JctS)}   p99 ${h(x.p99JctS)}`,
    `queueing delay  avg ${h(x.avgQueueS)} (submit to first start); time not running avg ${h(notRunning(run))} (JCT − run time, counts requeues)`,
    `JCT by gang size:`,
    ...classes,
    `utilization     ${x.utilization.toFixed(3)}   makespan ${h(x.makespanS)}`,
    `preemptions     ${x.preemptions} (checkpoint every ${min(c.checkpointIntervalMs)}, restart delay ${min(c.restartDelayMs)}, grace ${Math.round(c.graceMs / 1000)}s)`,
    `decisions       ${run.decisions} (${Math.round(x.decisionsPerS)} per second of decision time), ${run.placements} placements`,
  ];
  return `${lines.join('\n')}\n`;
}

function notRunning(run: SimRun): number {
  const done = run.outcomes.filter((o) => Number.isFinite(o.finishMs));
  return done.length === 0 ? 0 : done.reduce((n, o) => n + (o.finishMs - o.submitMs - o.durationMs) / 1000, 0) / done.length;
}

function maxJct(run: SimRun, cls: '1' | '2-8' | '>8'): number {
  let most = 0;
  for (const o of run.outcomes) if (gangClassOf(o.gpus) === cls && Number.isFinite(o.finishMs)) most = Math.max(most, (o.finishMs - o.submitMs) / 1000);
  return most;
}

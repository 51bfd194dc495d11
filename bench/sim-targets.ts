/**
 * The simulator targets: the default policy against the baselines on cluster02 (64 GPUs,
 * submit × 2), cluster06 (64 GPUs, × 2) and cluster05 (32 GPUs, × 1), with JCT per gang size.
 * Target on cluster02: default avg JCT ≤ half of backfill's, and its >8-GPU avg JCT no worse.
 *   npm run build && node dist/bench/sim-targets.js [--policies default,backfill]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gangClassOf } from '../sim/metrics.js';
import { simulate, type SimRun } from '../sim/simulator.js';
import { readTrace } from '../sim/trace.js';
import { tracesDir } from './sim-trace-dir.js';

const SETUPS = [
  { trace: 'cluster02', nodes: 8, scale: 2 },
  { trace: 'cluster06', nodes: 8, scale: 2 },
  { trace: 'cluster05', nodes: 4, scale: 1 },
];

function maxJctH(run: SimRun, cls: string): number {
  const xs = run.outcomes.filter((o) => gangClassOf(o.gpus) === cls && Number.isFinite(o.finishMs)).map((o) => (o.finishMs - o.submitMs) / 3_600_000);
  return xs.reduce((m, x) => Math.max(m, x), 0);
}

function line(run: SimRun): string {
  const x = run.result;
  const h = (s: number): string => (s / 3600).toFixed(2).padStart(7);
  const g = (c: '1' | '2-8' | '>8'): string => `${h(x.byGangSize[c].avgJctS)}/${maxJctH(run, c).toFixed(0).padStart(4)}`;
  return `${x.policy.padEnd(10)} ${h(x.avgJctS)} ${h(x.p50JctS)} ${h(x.p99JctS)} ${h(x.avgQueueS)}  ${x.utilization.toFixed(3)} ${h(x.makespanS)}  ${g('1')} ${g('2-8')} ${g('>8')}  ${String(x.preemptions).padStart(5)} ${Math.round(x.decisionsPerS).toString().padStart(7)}`;
}

function main(): void {
  const dir = tracesDir();
  if (!dir) {
    console.log('shared/traces/itp-elasticflow not found; nothing to run');
    return;
  }
  const arg = process.argv.indexOf('--policies');
  const names = arg > 0 ? process.argv[arg + 1]!.split(',') : ['default', 'backfill', 'first-fit', 'fifo', 'sjf-oracle'];
  for (const setup of SETUPS) {
    const file = join(dir, `${setup.trace}.csv`);
    if (!existsSync(file)) continue;
    const trace = readTrace(file);
    console.log(`\n${setup.trace}: ${setup.nodes} nodes × 8 GPUs, submit × ${setup.scale}, ${trace.length} jobs (times in hours; per class avg/max JCT)`);
    console.log('policy      avgJCT  p50JCT  p99JCT  avgQueue  util  makespan   1-GPU avg/max  2-8 avg/max   >8 avg/max  preempt  decide/s');
    const runs = new Map<string, SimRun>();
    for (const policy of names) {
      const run = simulate(trace, { nodes: setup.nodes, gpusPerNode: 8, submitScale: setup.scale, policy });
      runs.set(policy, run);
      console.log(line(run));
    }
    const d = runs.get('default')?.result;
    const b = runs.get('backfill')?.result;
    if (d && b) {
      const ratio = d.avgJctS / b.avgJctS;
      const big = b.byGangSize['>8'].jobs > 0 ? d.byGangSize['>8'].avgJctS / b.byGangSize['>8'].avgJctS : NaN;
      console.log(`default / backfill: avg JCT ${ratio.toFixed(3)} (target ≤ 0.5), >8-GPU avg JCT ${big.toFixed(3)} (target ≤ 1)`);
    }
  }
}

main();

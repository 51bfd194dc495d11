/**
 * Reproduces the reference table of shared/traces/itp-elasticflow/README.md with the simulator
 * and the baseline policies (their fifo, fifo_skip, easy, sjf = our fifo, first-fit, backfill,
 * sjf-oracle), printing ours beside theirs and the relative difference.
 *   npm run build && node dist/bench/sim-reference.js [--only cluster02]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simulate } from '../sim/simulator.js';
import { readTrace } from '../sim/trace.js';
import { tracesDir } from './sim-trace-dir.js';

interface Ref {
  trace: string;
  nodes: number;
  scale: number;
  policy: string;
  avgJctH: number;
  p50JctH: number;
  p99JctH: number;
  avgQueueH: number;
  util: number;
}

const NAMES: Record<string, string> = { fifo: 'fifo', fifo_skip: 'first-fit', easy: 'backfill', sjf: 'sjf-oracle' };

/** The README's table, as published there. */
const TABLE = `
cluster02 8 2 fifo 155.34 141.33 382.5 150.62 0.442
cluster02 8 2 fifo_skip 8.11 1.38 76.7 3.39 0.489
cluster02 8 2 easy 18.03 1.45 186.0 13.31 0.495
cluster02 8 2 sjf 7.19 1.37 77.1 2.47 0.489
cluster06 8 2 fifo 38.95 21.37 249.1 29.67 0.660
cluster06 8 2 fifo_skip 24.82 18.74 118.1 15.55 0.662
cluster06 8 2 easy 36.28 20.57 246.9 27.01 0.661
cluster06 8 2 sjf 21.20 10.56 118.9 11.93 0.664
cluster05 4 1 fifo 24.40 16.71 86.4 21.59 0.389
cluster05 4 1 fifo_skip 17.76 16.09 78.8 14.95 0.389
cluster05 4 1 easy 20.21 14.15 77.7 17.39 0.389
cluster05 4 1 sjf 10.05 4.47 78.7 7.24 0.388
cluster02 16 1 fifo 35.09 8.57 145.6 30.37 0.450
cluster02 16 1 fifo_skip 8.29 1.40 77.1 3.57 0.500
cluster02 16 1 easy 8.76 1.43 77.1 4.04 0.459
cluster02 16 1 sjf 6.62 1.37 76.7 1.90 0.498
cluster06 16 1 fifo 20.84 10.02 148.8 11.57 0.642
cluster06 16 1 fifo_skip 14.01 9.37 87.3 4.74 0.642
cluster06 16 1 easy 18.51 9.85 146.6 9.23 0.645
cluster06 16 1 sjf 13.27 7.00 117.3 3.99 0.634
cluster07 40 1 fifo 11.46 4.96 115.2 5.09 0.630
cluster07 40 1 fifo_skip 8.73 3.04 113.9 2.37 0.630
cluster07 40 1 easy 9.93 3.84 115.5 3.56 0.630
cluster07 40 1 sjf 7.41 2.32 116.2 1.04 0.630
cluster04 96 1 fifo 4.91 2.56 52.2 0.29 0.599
cluster04 96 1 sjf 4.73 2.54 52.2 0.12 0.599
`;

function refs(): Ref[] {
  return TABLE.trim().split('\n').map((line) => {
    const [trace, nodes, scale, policy, a, p50, p99, q, u] = line.split(' ');
    return { trace: trace!, nodes: Number(nodes), scale: Number(scale), policy: policy!, avgJctH: Number(a), p50JctH: Number(p50), p99JctH: Number(p99), avgQueueH: Number(q), util: Number(u) };
  });
}

function pct(ours: number, theirs: number): string {
  if (theirs === 0) return ours === 0 ? '0%' : 'n/a';
  const d = ((ours - theirs) / theirs) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}%`;
}

function main(): void {
  const dir = tracesDir();
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (!dir) {
    console.log('shared/traces/itp-elasticflow not found; nothing to reproduce');
    return;
  }
  console.log('trace      GPUs  ×s  policy      avg JCT h (ref)       p50 JCT h (ref)      p99 JCT h (ref)        avg queue h (ref)      util (ref)');
  let worst = 0;
  for (const r of refs()) {
    if (only && r.trace !== only) continue;
    const file = join(dir, `${r.trace}.csv`);
    if (!existsSync(file)) continue;
    const { result: x } = simulate(readTrace(file), { nodes: r.nodes, gpusPerNode: 8, submitScale: r.scale, policy: NAMES[r.policy]! });
    const h = (s: number): number => s / 3600;
    const cells = [
      [h(x.avgJctS), r.avgJctH],
      [h(x.p50JctS), r.p50JctH],
      [h(x.p99JctS), r.p99JctH],
      [h(x.avgQueueS), r.avgQueueH],
      [x.utilization, r.util],
    ] as const;
    worst = Math.max(worst, Math.abs((h(x.avgJctS) - r.avgJctH) / r.avgJctH));
    const text = cells.map(([o, t]) => `${o.toFixed(o < 1 ? 3 : 2).padStart(7)} (${String(t).padStart(6)}) ${pct(o, t).padStart(6)}`).join('  ');
    console.log(`${r.trace}  ${String(r.nodes * 8).padStart(4)}  ${r.scale}   ${NAMES[r.policy]!.padEnd(10)}  ${text}`);
  }
  console.log(`largest avg-JCT difference: ${(worst * 100).toFixed(2)}%`);
}

main();

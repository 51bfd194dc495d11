/**
 * Decision throughput: 1,000 nodes × 8 GPUs with 10,000 queued sessions (mixed gang sizes,
 * 50 users, 5 % at a higher priority, one node in 97 with a quarantined GPU). Round one
 * places thousands on the empty cluster; every later round ends ~2 % of the running sessions,
 * decides, applies the plan (preempted sessions stop at once) and tops the queue back up to
 * 10,000. Prints placements per second of decision time, the first round, and p50/p99 of the
 * later rounds, in wall time and in this process's CPU time (the two differ on a busy machine).
 * After a warm-up run. Target: ≥ 5,000 placements/s and p99 ≤ 20 ms.
 *   npm run build && node dist/bench/scheduler-throughput.js [--policy default] [--rounds 300]
 */
import { performance } from 'node:perf_hooks';
import { policies, type Decide, type NodeView, type PendingSession, type RunningSession } from '../coordinator/scheduler/index.js';

const NODES = 1000;
const GPUS = 8;
const QUEUED = 10_000;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIZES = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 4, 4, 8, 8, 8, 16, 32, 64];

interface Figures {
  placements: number;
  wallMs: number[];
  cpuMs: number[];
}

/** Runs `rounds` rounds from an empty cluster and a full queue; the first round places thousands at once. */
function run(decide: Decide, rounds: number): Figures {
  const random = rng(42);
  const nodes: NodeView[] = Array.from({ length: NODES }, (_, i) => ({ id: `n${i}`, gpus: [0, 1, 2, 3, 4, 5, 6, 7], unusableGpus: i % 97 === 0 ? [3] : [], cpus: 64, memoryMib: 512_000, schedulable: true }));
  let pending: PendingSession[] = [];
  let running: RunningSession[] = [];
  let next = 0;
  let now = 0;
  const usage: Record<string, number> = {};
  const submit = (): void => {
    const gpus = SIZES[Math.floor(random() * SIZES.length)]!;
    const user = `u${Math.floor(random() * 50)}`;
    pending.push({ id: `s${next++}`, user, gpus, gpusPerNode: 0, cpus: 1, memoryMib: 0, priority: random() < 0.05 ? 1 : 0, submittedAtMs: now });
  };
  while (pending.length < QUEUED) submit();
  const out: Figures = { placements: 0, wallMs: [], cpuMs: [] };
  for (let round = 0; round < rounds; round++) {
    now += 60_000;
    const snapshot = { nodes, pending, running, usageByUser: usage };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const plan = decide(snapshot, now);
    out.wallMs.push(performance.now() - t0);
    const used = process.cpuUsage(cpu);
    out.cpuMs.push((used.user + used.system) / 1000);
    out.placements += plan.placements.length;
    const byId = new Map(pending.map((s) => [s.id, s]));
    for (const p of plan.placements) {
      const s = byId.get(p.sessionId)!;
      running.push({ id: s.id, user: s.user, gpus: s.gpus, cpus: s.cpus, memoryMib: s.memoryMib, priority: s.priority, startedAtMs: now, assignments: p.assignments, submittedAtMs: s.submittedAtMs });
      usage[s.user] = (usage[s.user] ?? 0) + s.gpus * 60;
    }
    const placed = new Set(plan.placements.map((p) => p.sessionId));
    const stopped = new Set(plan.preemptions.map((v) => v.sessionId));
    pending = pending.filter((s) => !placed.has(s.id));
    running = running.filter((r) => !stopped.has(r.id) && random() > 0.02);
    while (pending.length < QUEUED) submit();
  }
  return out;
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function report(name: string, f: Figures): void {
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const steady = { wall: f.wallMs.slice(1), cpu: f.cpuMs.slice(1) };
  console.log(
    `${name.padEnd(10)} placements ${f.placements}  placements/s ${Math.round((f.placements * 1000) / sum(f.wallMs))} (CPU time: ${Math.round((f.placements * 1000) / sum(f.cpuMs))})  ` +
      `first round ${f.wallMs[0]!.toFixed(1)} ms  steady rounds p50 ${quantile(steady.wall, 0.5).toFixed(2)} ms  p99 ${quantile(steady.wall, 0.99).toFixed(2)} ms (CPU p99 ${quantile(steady.cpu, 0.99).toFixed(2)} ms)`,
  );
}

function main(): void {
  const arg = (flag: string): string | undefined => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  const rounds = Number(arg('--rounds') ?? 300);
  const names = arg('--policy')?.split(',') ?? Object.keys(policies);
  console.log(`${NODES} nodes × ${GPUS} GPUs, ${QUEUED} queued sessions, ${rounds} rounds`);
  for (const name of names) {
    run(policies[name]!, 20);
    report(name, run(policies[name]!, rounds));
  }
}

main();

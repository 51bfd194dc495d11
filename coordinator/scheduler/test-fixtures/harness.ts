import type { NodeView, PendingSession, Plan, RunningSession, Snapshot, WaitReason } from '../types.js';

/** `count` nodes n0…n{count-1} with `gpus` GPUs each (indices 0…gpus-1), 64 CPUs, 256 GiB. */
export function nodes(count: number, gpus = 8, extra: Partial<NodeView> = {}): NodeView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `n${i}`,
    gpus: Array.from({ length: gpus }, (_, g) => g),
    unusableGpus: [],
    cpus: 64,
    memoryMib: 262_144,
    schedulable: true,
    ...extra,
  }));
}

let clock = 0;

/** A pending session; submission times increase in call order unless given. */
export function pend(id: string, gpus: number, extra: Partial<PendingSession> = {}): PendingSession {
  clock += 1000;
  return { id, user: 'alice', gpus, gpusPerNode: 0, cpus: 1, memoryMib: 0, priority: 0, submittedAtMs: clock, ...extra };
}

/** A running session holding `gpus` on each listed node, e.g. run('r', { n0: [0, 1] }). */
export function run(id: string, where: Record<string, number[]>, extra: Partial<RunningSession> = {}): RunningSession {
  const assignments = Object.entries(where).map(([nodeId, gpuIndices], rank) => ({ nodeId, gpuIndices, rank }));
  const gpus = assignments.reduce((n, a) => n + a.gpuIndices.length, 0);
  return { id, user: 'alice', gpus, cpus: 1, memoryMib: 0, priority: 0, startedAtMs: 0, assignments, ...extra };
}

export function snapshot(parts: Partial<Snapshot> & { nodes: NodeView[] }): Snapshot {
  return { pending: [], running: [], ...parts };
}

/** The node ids a session was placed on this round, or undefined. */
export function placedOn(plan: Plan, id: string): string[] | undefined {
  return plan.placements.find((p) => p.sessionId === id)?.assignments.map((a) => a.nodeId);
}

export function reasonOf(plan: Plan, id: string): WaitReason | undefined {
  return plan.waiting.find((w) => w.sessionId === id);
}

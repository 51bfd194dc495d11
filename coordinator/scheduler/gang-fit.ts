import type { NodeAssignment, NodeView, PendingSession } from './types.js';

/** Free GPU indices per node, given what is already assigned. */
export type FreeGpus = Map<string, number[]>;

export function freeGpusOf(nodes: NodeView[], assigned: NodeAssignment[]): FreeGpus {
  const used = new Map<string, Set<number>>();
  for (const a of assigned) {
    const set = used.get(a.nodeId) ?? new Set<number>();
    for (const g of a.gpuIndices) set.add(g);
    used.set(a.nodeId, set);
  }
  const free: FreeGpus = new Map();
  for (const node of nodes) {
    if (!node.schedulable) continue;
    const bad = new Set(node.unusableGpus);
    const u = used.get(node.id) ?? new Set<number>();
    free.set(node.id, node.gpus.filter((g) => !bad.has(g) && !u.has(g)));
  }
  return free;
}

/**
 * The per-node shape of a gang: how many processes, GPUs each. A request that fits one node
 * uses one node; a larger one spans nodes with `gpusPerNode` each (default: the largest node).
 */
export function gangShape(session: Pick<PendingSession, 'gpus' | 'gpusPerNode'>, nodes: NodeView[]): { processes: number; perNode: number } | undefined {
  if (session.gpus === 0) return { processes: 1, perNode: 0 };
  const largest = Math.max(0, ...nodes.map((n) => n.gpus.length));
  const perNode = session.gpusPerNode > 0 ? session.gpusPerNode : Math.min(session.gpus, largest);
  if (perNode <= 0 || session.gpus % perNode !== 0) return undefined;
  return { processes: session.gpus / perNode, perNode };
}

/**
 * All-or-nothing first fit: the first nodes (in the given order) that each have `perNode` free
 * GPUs, or nothing. Never books a GPU twice. Does not mutate `free`.
 */
export function firstFit(session: PendingSession, nodes: NodeView[], free: FreeGpus): NodeAssignment[] | undefined {
  const shape = gangShape(session, nodes);
  if (!shape) return undefined;
  const out: NodeAssignment[] = [];
  for (const node of nodes) {
    if (out.length === shape.processes) break;
    const avail = free.get(node.id);
    if (!avail || node.cpus < session.cpus) continue;
    if (shape.perNode === 0 || avail.length >= shape.perNode) {
      out.push({ nodeId: node.id, gpuIndices: avail.slice(0, shape.perNode), rank: out.length });
    }
  }
  return out.length === shape.processes ? out : undefined;
}

/** Marks an assignment's GPUs as taken in `free`. */
export function take(free: FreeGpus, assignments: NodeAssignment[]): void {
  for (const a of assignments) {
    const taken = new Set(a.gpuIndices);
    free.set(a.nodeId, (free.get(a.nodeId) ?? []).filter((g) => !taken.has(g)));
  }
}

/**
 * Whether a request can ever fit the cluster's node shapes (ignoring what is in use now), and
 * if not, the largest GPU count that would.
 */
export function admissible(session: Pick<PendingSession, 'gpus' | 'gpusPerNode' | 'cpus'>, nodes: NodeView[]): { ok: true } | { ok: false; largest: number; why: string } {
  const capacity = nodes.map((n) => n.gpus.length - n.unusableGpus.length).filter((c) => c > 0).sort((a, b) => b - a);
  const largestNode = capacity[0] ?? 0;
  const largest = Math.max(0, ...capacity.map((_, i) => largestFor(capacity, i + 1)));
  if (session.gpus === 0) return nodes.length > 0 ? { ok: true } : { ok: false, largest: 0, why: 'the cluster has no nodes' };
  const shape = gangShape(session, nodes.map((n) => ({ ...n, schedulable: true })));
  if (!shape) {
    return { ok: false, largest, why: `${session.gpus} GPUs cannot be split into equal parts of ${session.gpusPerNode || largestNode} per node` };
  }
  const fitting = capacity.filter((c) => c >= shape.perNode).length;
  if (fitting >= shape.processes) return { ok: true };
  return { ok: false, largest, why: `${shape.processes} node(s) with ${shape.perNode} GPUs each are needed; the cluster has ${fitting}` };
}

/** Largest gang that fits using `k` nodes of equal per-node count (capacity sorted descending). */
function largestFor(capacity: number[], k: number): number {
  if (k > capacity.length) return 0;
  return (capacity[k - 1] ?? 0) * k;
}

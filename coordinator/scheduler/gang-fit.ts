import { cpusOf, memoryOf } from './capacity.js';
import { formatNeeds, noNodeOffers, offersAll } from './node-needs.js';
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
  return shapeFor(session, largestNodeOf(nodes));
}

/** The GPU count of the largest node. */
export function largestNodeOf(nodes: NodeView[]): number {
  let most = 0;
  for (const n of nodes) most = Math.max(most, n.gpus.length);
  return most;
}

/** `gangShape` given the largest node's GPU count. */
export function shapeFor(session: Pick<PendingSession, 'gpus' | 'gpusPerNode'>, largest: number): { processes: number; perNode: number } | undefined {
  if (session.gpus === 0) return { processes: 1, perNode: 0 };
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
 * Whether a request can ever fit the cluster's node shapes (ignoring what is in use now and
 * which GPUs are quarantined: those come back), and if not, the largest GPU count that would.
 * A request with `needs` is judged on the nodes that offer every tag it needs.
 */
export function admissible(session: Pick<PendingSession, 'gpus' | 'gpusPerNode' | 'cpus'> & { memoryMib?: number; needs?: string[] }, nodes: NodeView[]): Admissibility {
  return admissibleOn(session, shapeProfile(nodes, session.cpus, session.memoryMib ?? 0, session.needs));
}

export type Admissibility = { ok: true } | { ok: false; largest: number; why: string };

/** The node shapes a request of `cpus` and `memoryMib` per process (and `needs`) could use: GPU counts, largest first. */
export interface ShapeProfile {
  nodes: number;
  largestNode: number;
  /** GPU counts of the nodes with enough CPUs and memory, largest first (nodes without GPUs left out). */
  capacity: number[];
  /** Nodes with enough CPUs and memory, GPUs or not. */
  big: number;
  cpus: number;
  memoryMib: number;
  /** When the request needs tags: only nodes offering them count above, and this says so. */
  needs?: { tags: string[]; offering: number; none: string };
}

export function shapeProfile(all: NodeView[], cpus: number, memoryMib: number, needs?: string[]): ShapeProfile {
  const tags = needs && needs.length > 0 ? [...new Set(needs)].sort() : undefined;
  const nodes = tags ? all.filter((n) => offersAll(n, tags)) : all;
  const big = nodes.filter((n) => cpusOf(n) >= cpus && memoryOf(n) >= memoryMib);
  const capacity = big.map((n) => n.gpus.length).filter((c) => c > 0).sort((a, b) => b - a);
  const profile: ShapeProfile = { nodes: all.length, largestNode: largestNodeOf(nodes), capacity, big: big.length, cpus, memoryMib };
  if (tags) profile.needs = { tags, offering: nodes.length, none: noNodeOffers(tags, all) };
  return profile;
}

/** `admissible` against a precomputed profile (one per CPU, memory and needs request per round). */
export function admissibleOn(session: Pick<PendingSession, 'gpus' | 'gpusPerNode'>, profile: ShapeProfile): Admissibility {
  const needs = profile.needs;
  if (needs && needs.offering === 0 && profile.nodes > 0) return { ok: false, largest: 0, why: needs.none };
  const fit = admissibleShape(session, profile);
  if (fit.ok || !needs) return fit;
  return { ok: false, largest: fit.largest, why: `${fit.why}, counting only the nodes that offer ${formatNeeds(needs.tags)}` };
}

function admissibleShape(session: Pick<PendingSession, 'gpus' | 'gpusPerNode'>, profile: ShapeProfile): Admissibility {
  const { capacity, largestNode } = profile;
  const largest = capacity.reduce((m, _, i) => Math.max(m, largestFor(capacity, i + 1)), 0);
  if (session.gpus === 0) {
    return profile.big > 0 ? { ok: true } : { ok: false, largest, why: profile.nodes === 0 ? 'the cluster has no nodes' : `no node has ${profile.cpus} CPUs and ${profile.memoryMib} MiB` };
  }
  const shape = shapeFor(session, largestNode);
  if (largestNode === 0) {
    return { ok: false, largest: 0, why: profile.nodes === 0 ? 'the cluster has no nodes' : 'no node of the cluster has a GPU (run it on CPU with -g 0)' };
  }
  if (!shape) {
    const divisor = largestDivisor(session.gpus, largestNode);
    const hint = session.gpusPerNode === 0 && divisor > 0 ? ` (ask for ${divisor} GPUs per node to spread it over ${session.gpus / divisor} nodes)` : '';
    return { ok: false, largest, why: `${session.gpus} GPUs cannot be split into equal parts of ${session.gpusPerNode || largestNode} per node${hint}` };
  }
  let fitting = 0;
  while (fitting < capacity.length && capacity[fitting]! >= shape.perNode) fitting++;
  if (fitting >= shape.processes) return { ok: true };
  return { ok: false, largest, why: `${shape.processes} node(s) with ${shape.perNode} GPUs each are needed; the cluster has ${fitting}` };
}

function largestDivisor(n: number, atMost: number): number {
  for (let d = Math.min(n, atMost); d > 1; d--) if (n % d === 0) return d;
  return 0;
}

/** Largest gang that fits using `k` nodes of equal per-node count (capacity sorted descending). */
function largestFor(capacity: number[], k: number): number {
  if (k > capacity.length) return 0;
  return (capacity[k - 1] ?? 0) * k;
}

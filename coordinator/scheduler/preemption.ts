import { cpusOf } from './capacity.js';
import type { Round } from './round.js';
import type { PendingSession, RunningSession } from './types.js';

/** The victims that make room for one session, and the nodes it will take when they stop. */
export interface VictimChoice {
  nodeIds: string[];
  /** Whole gangs, including ones already stopping. */
  victims: RunningSession[];
  lostGpuMs: number;
}

/** GPU-ms of work a victim loses if it cannot save: GPUs × time since its last checkpoint; 0 if already stopping. */
export function lostWork(r: RunningSession, nowMs: number): number {
  if (r.stopping) return 0;
  return r.gpus * Math.max(0, nowMs - (r.lastCheckpointAtMs ?? r.startedAtMs));
}

interface NodeOption {
  p: number;
  cost: number;
  gpus: number;
  victims: RunningSession[];
}

/**
 * Gang-aware victim choice: for each node, the eligible sessions whose stop would free enough
 * GPUs there, cheapest lost work per freed GPU first; then the `processes` cheapest nodes. A
 * victim is always a whole gang: stopping a multi-node session frees all of its nodes, and its
 * whole lost work counts. Reserved nodes, nodes that lack what `s` needs and victims in `taken`
 * are left alone.
 */
export function chooseVictims(round: Round, s: PendingSession, eligible: (r: RunningSession) => boolean, taken: Set<string>): VictimChoice | undefined {
  const req = round.request(s);
  if (!req || req.perNode === 0) return undefined;
  const onNode = sessionsByNode(round);
  const options: NodeOption[] = [];
  // Reserved nodes, and nodes that lack what the session needs: stopping work there would not help it.
  const mask = round.mask(s, round.reserved)!;
  for (let p = 0; p < round.cap.nodes.length; p++) {
    if (mask[p]) continue;
    const option = nodeOption(round, p, req.perNode, req.cpus, onNode[p] ?? [], (r) => !taken.has(r.id) && (r.stopping === true || eligible(r)));
    if (option) options.push(option);
  }
  if (options.length < req.processes) return undefined;
  const cheaper = (a: NodeOption, b: NodeOption): number => a.cost - b.cost || a.gpus - b.gpus || round.cap.freeOn(a.p) - round.cap.freeOn(b.p) || a.p - b.p;
  const chosen = req.processes === 1 ? [options.reduce((best, o) => (cheaper(o, best) < 0 ? o : best))] : options.sort(cheaper).slice(0, req.processes);
  const victims = new Map<string, RunningSession>();
  for (const o of chosen) for (const v of o.victims) victims.set(v.id, v);
  if (victims.size === 0) return undefined;
  const list = [...victims.values()];
  return { nodeIds: chosen.map((o) => round.cap.nodes[o.p]!.id), victims: list, lostGpuMs: list.reduce((n, v) => n + lostWork(v, round.nowMs), 0) };
}

function nodeOption(round: Round, p: number, perNode: number, cpus: number, here: RunningSession[], ok: (r: RunningSession) => boolean): NodeOption | undefined {
  const node = round.cap.nodes[p]!;
  if (node.gpus.length - node.unusableGpus.length < perNode || cpusOf(node) < cpus) return undefined;
  let free = round.cap.freeOn(p);
  let freeCpus = round.cap.cpusOn(p);
  if (free >= perNode && freeCpus >= cpus) return { p, cost: 0, gpus: 0, victims: [] };
  const bad = new Set(node.unusableGpus);
  const eligible = here.filter(ok);
  let potential = free;
  for (const r of eligible) potential += gpusOn(r, node.id, bad);
  if (potential < perNode) return undefined;
  const candidates = eligible
    .map((r) => ({ r, freed: gpusOn(r, node.id, bad), cost: lostWork(r, round.nowMs) }))
    .filter((c) => c.freed > 0 || c.r.cpus > 0)
    .sort((a, b) => a.cost / Math.max(1, a.freed) - b.cost / Math.max(1, b.freed) || a.r.priority - b.r.priority || b.r.startedAtMs - a.r.startedAtMs);
  const victims: RunningSession[] = [];
  let cost = 0;
  let gpus = 0;
  for (const c of candidates) {
    if (free >= perNode && freeCpus >= cpus) break;
    victims.push(c.r);
    free += c.freed;
    freeCpus += c.r.cpus;
    cost += c.cost;
    gpus += c.r.gpus;
  }
  return free >= perNode && freeCpus >= cpus ? { p, cost, gpus, victims } : undefined;
}

function gpusOn(r: RunningSession, nodeId: string, bad: Set<number>): number {
  let n = 0;
  for (const a of r.assignments) if (a.nodeId === nodeId) for (const g of a.gpuIndices) if (!bad.has(g)) n++;
  return n;
}

const byNodeCache = new WeakMap<Round, RunningSession[][]>();

function sessionsByNode(round: Round): RunningSession[][] {
  let out = byNodeCache.get(round);
  if (!out) {
    const built: RunningSession[][] = round.cap.nodes.map(() => []);
    for (const r of round.snapshot.running) {
      for (const a of r.assignments) {
        const p = round.cap.positionOf(a.nodeId);
        if (p !== undefined && !built[p]!.includes(r)) built[p]!.push(r);
      }
    }
    byNodeCache.set(round, built);
    out = built;
  }
  return out;
}

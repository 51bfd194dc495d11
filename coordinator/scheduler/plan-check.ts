import { cpusOf, memoryOf } from './capacity.js';
import type { Plan, Snapshot } from './types.js';

/**
 * Everything wrong with a plan against its snapshot, in words; empty when the plan is sound:
 * every placement is a whole gang of a pending session (equal GPUs per node, distinct nodes,
 * the requested total), on schedulable nodes that offer what it needs, on GPUs that exist, are not quarantined and are
 * booked by nobody else, within each node's CPUs and memory; every preemption names a running
 * session. The simulator checks every plan with it; the coordinator can check before applying.
 */
export function checkPlan(snapshot: Snapshot, plan: Plan): string[] {
  const problems: string[] = [];
  const nodes = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const pending = new Map(snapshot.pending.map((s) => [s.id, s]));
  const booked = new Map<string, string>();
  const cpus = new Map<string, number>();
  const memory = new Map<string, number>();
  const book = (owner: string, nodeId: string, gpus: number[], c: number, m: number): void => {
    for (const g of gpus) {
      const key = `${nodeId}#${g}`;
      const other = booked.get(key);
      if (other !== undefined) problems.push(`GPU ${g} of ${nodeId} is booked by both ${other} and ${owner}`);
      booked.set(key, owner);
    }
    cpus.set(nodeId, (cpus.get(nodeId) ?? 0) + c);
    memory.set(nodeId, (memory.get(nodeId) ?? 0) + m);
  };
  for (const r of snapshot.running) for (const a of r.assignments) book(r.id, a.nodeId, a.gpuIndices, r.cpus, r.memoryMib);
  const placed = new Set<string>();
  for (const p of plan.placements) {
    const s = pending.get(p.sessionId);
    if (!s) {
      problems.push(`${p.sessionId} is placed but is not pending`);
      continue;
    }
    if (placed.has(s.id)) problems.push(`${s.id} is placed twice`);
    placed.add(s.id);
    const per = new Set(p.assignments.map((a) => a.gpuIndices.length));
    const total = p.assignments.reduce((n, a) => n + a.gpuIndices.length, 0);
    if (total !== s.gpus || per.size > 1) problems.push(`${s.id} asks for ${s.gpus} GPUs; placed ${p.assignments.map((a) => a.gpuIndices.length).join('+')}`);
    if (s.gpus > 0 && s.gpusPerNode > 0 && [...per].some((k) => k !== s.gpusPerNode)) problems.push(`${s.id} asks for ${s.gpusPerNode} GPUs per node`);
    if (new Set(p.assignments.map((a) => a.nodeId)).size !== p.assignments.length) problems.push(`${s.id} has two processes on one node`);
    for (const a of p.assignments) {
      const node = nodes.get(a.nodeId);
      if (!node) problems.push(`${s.id} is placed on unknown node ${a.nodeId}`);
      else {
        if (!node.schedulable) problems.push(`${s.id} is placed on unschedulable node ${a.nodeId}`);
        for (const t of s.needs ?? []) if (!node.offers?.includes(t)) problems.push(`${s.id} needs ${t}; it is placed on ${a.nodeId}, which does not offer it`);
        for (const g of a.gpuIndices) {
          if (!node.gpus.includes(g)) problems.push(`${s.id} is placed on GPU ${g} that ${a.nodeId} does not have`);
          if (node.unusableGpus.includes(g)) problems.push(`${s.id} is placed on quarantined GPU ${g} of ${a.nodeId}`);
        }
      }
      book(s.id, a.nodeId, a.gpuIndices, s.cpus, s.memoryMib);
    }
  }
  for (const [id, used] of cpus) {
    const node = nodes.get(id);
    if (node && used > cpusOf(node)) problems.push(`${id} has ${used} CPUs booked; it has ${node.cpus}`);
  }
  for (const [id, used] of memory) {
    const node = nodes.get(id);
    if (node && used > memoryOf(node)) problems.push(`${id} has ${used} MiB booked; it has ${node.memoryMib}`);
  }
  const running = new Set(snapshot.running.map((r) => r.id));
  for (const v of plan.preemptions) if (!running.has(v.sessionId)) problems.push(`${v.sessionId} is preempted but is not running`);
  return problems;
}

import type { Plan } from '../scheduler/types.js';
import type { Store } from '../store/types.js';
import type { Effects } from './effects.js';
import { markPreempted, preemptionStaleness } from './preempt.js';
import type { SessionOps } from './session-ops.js';

/** The range MASTER_PORT is taken from, one port per active session. */
export const MASTER_PORT_BASE = 29500;
export const MASTER_PORT_COUNT = 1000;

export interface AppliedPlan {
  placed: string[];
  /** Victims asked to save and stop. */
  preempted: string[];
  rejected: Array<{ sessionId: string; why: string }>;
}

/**
 * Applies a plan inside the caller's transaction. Each placement is checked against the store
 * as it is now (session still queued, node known and up, GPU free and present) and the stale
 * ones are skipped; a placed session gets a new epoch, its assignments, its placement time and
 * a MASTER_PORT. Each preemption marks its victim and asks its ranks to save and stop within
 * `stopGraceMs` (messages collected in `fx`). Wait reasons become the sessions' `reason`.
 */
export function applyPlan(ops: SessionOps, fx: Effects, plan: Plan, nowMs: number, stopGraceMs: number): AppliedPlan {
  const store = ops.store;
  const out: AppliedPlan = { placed: [], preempted: [], rejected: [] };
  const taken = new Set(store.activeAssignments().flatMap((a) => a.gpuIndices.map((g) => `${a.nodeId}:${g}`)));
  const ports = new Set(store.sessionsInStates(['scheduled', 'starting', 'running']).map((s) => s.masterPort));
  for (const p of plan.placements) {
    const why = staleness(store, p, taken);
    if (why) {
      out.rejected.push({ sessionId: p.sessionId, why });
      continue;
    }
    place(store, p, nowMs, freePort(ports));
    for (const a of p.assignments) for (const g of a.gpuIndices) taken.add(`${a.nodeId}:${g}`);
    fx.changed.add(p.sessionId);
    out.placed.push(p.sessionId);
  }
  for (const p of plan.preemptions) {
    const why = preemptionStaleness(ops, p);
    if (why) {
      out.rejected.push({ sessionId: p.sessionId, why });
      continue;
    }
    markPreempted(ops, fx, store.getSession(p.sessionId)!, p.forSessionId, nowMs, stopGraceMs);
    out.preempted.push(p.sessionId);
  }
  for (const w of plan.waiting) {
    const s = store.getSession(w.sessionId);
    if (s && s.state === 'queued' && s.reason !== w.message) store.updateSession(s.name, { reason: w.message });
  }
  return out;
}

function place(store: Store, p: Plan['placements'][number], nowMs: number, masterPort: number): void {
  const s = store.getSession(p.sessionId)!;
  const epoch = s.epoch + 1;
  store.insertAssignments(p.assignments.map((a) => ({
    session: s.name, epoch, nodeId: a.nodeId, rank: a.rank, gpuIndices: a.gpuIndices,
    state: 'pending', exitCode: undefined, signal: '', message: '',
  })));
  const where = p.assignments.map((a) => `${a.nodeId}${a.gpuIndices.length ? ` (GPU ${a.gpuIndices.join(',')})` : ''}`).join(', ');
  const reason = `placed on ${where}`;
  store.updateSession(s.name, { state: 'scheduled', reason, epoch, masterPort, placedMs: nowMs });
  store.addEvent(s.name, nowMs, 'scheduled', reason);
}

function staleness(store: Store, p: Plan['placements'][number], taken: Set<string>): string | undefined {
  const s = store.getSession(p.sessionId);
  if (!s || s.state !== 'queued') return `session ${p.sessionId} is no longer queued`;
  if (p.assignments.length === 0) return 'empty placement';
  const ranks = new Set(p.assignments.map((a) => a.rank));
  if (ranks.size !== p.assignments.length) return 'ranks repeat';
  for (const a of p.assignments) {
    const node = store.getNode(a.nodeId);
    if (!node || node.state === 'down') return `node ${a.nodeId} is not up`;
    const has = new Set(node.inventory.gpus.map((g) => g.index));
    for (const g of a.gpuIndices) {
      if (!has.has(g)) return `node ${a.nodeId} has no GPU ${g}`;
      if (taken.has(`${a.nodeId}:${g}`)) return `GPU ${g} of ${a.nodeId} is already taken`;
    }
    if (new Set(a.gpuIndices).size !== a.gpuIndices.length) return `GPU listed twice on ${a.nodeId}`;
  }
  return undefined;
}

function freePort(used: Set<number>): number {
  for (let i = 0; i < MASTER_PORT_COUNT; i++) {
    const port = MASTER_PORT_BASE + i;
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
  return MASTER_PORT_BASE + Math.floor(Math.random() * MASTER_PORT_COUNT);
}

import type { Preemption } from '../scheduler/types.js';
import type { SessionRow } from '../store/types.js';
import { ACTIVE_STATES } from '../store/types.js';
import type { Effects } from './effects.js';
import type { SessionOps } from './session-ops.js';

/** Why a preemption of the plan cannot be applied to the store as it is now; undefined when it can. */
export function preemptionStaleness(ops: SessionOps, p: Preemption): string | undefined {
  const victim = ops.store.getSession(p.sessionId);
  if (!victim || !ACTIVE_STATES.includes(victim.state)) return `session ${p.sessionId} no longer holds a placement`;
  if (victim.stopRequestedMs > 0) return `session ${p.sessionId} is already stopping`;
  const pending = ops.store.getSession(p.forSessionId);
  if (!pending || pending.state !== 'queued') return `session ${p.forSessionId}, which it would make room for, is no longer queued`;
  return undefined;
}

/**
 * Marks `victim` as preempted for `forId` and asks every rank to save, then stop within the
 * grace period. Ranks not started yet end at once. When all ranks have exited the session ends
 * its run `preempted` and is requeued (SessionOps.settle). Runs inside the caller's transaction.
 */
export function markPreempted(ops: SessionOps, fx: Effects, victim: SessionRow, forId: string, nowMs: number, graceMs: number): void {
  const reason = `preempting for ${forId}`;
  ops.store.updateSession(victim.name, { stopRequestedMs: nowMs, stopGraceMs: graceMs, preemptedFor: forId, reason });
  ops.store.addEvent(victim.name, nowMs, victim.state, reason);
  fx.changed.add(victim.name);
  const ranks = ops.store.assignments(victim.name, victim.epoch);
  for (const r of ranks) {
    if (r.state === 'pending') ops.store.updateRank(victim.name, victim.epoch, r.rank, { state: 'exited', message: 'preempted before it started' });
  }
  const row = ops.store.getSession(victim.name)!;
  ops.stopRanks(fx, row, ranks, graceMs, `${reason}: save, then stop`, { checkpoint: true });
  ops.settle(fx, victim.name);
}

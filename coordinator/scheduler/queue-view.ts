import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { decideDefault } from './default-policy.js';
import type { Decide, Plan, Snapshot, WaitReason } from './types.js';

/** One line of `nsml queue`: a pending session, its place in the policy's order, and why it waits. */
export interface QueueEntry {
  position: number;
  sessionId: string;
  user: string;
  gpus: number;
  priority: number;
  queuedMs: number;
  /** 'starting' when this round places it. */
  state: 'waiting' | 'starting';
  reason?: WaitReason;
  expectedDurationMs?: number;
  expectedDurationSource?: 'declared' | 'learned';
}

/**
 * The queue in the order the policy walks it, each session with its wait reason. Pass the plan
 * of the round just made to avoid deciding again; otherwise the policy is asked once (pure).
 */
export function queueView(snapshot: Snapshot, nowMs: number, decide: Decide = decideDefault, plan?: Plan): QueueEntry[] {
  const p = plan ?? decide(snapshot, nowMs);
  const byId = new Map(snapshot.pending.map((s) => [s.id, s]));
  const reasons = new Map(p.waiting.map((w) => [w.sessionId, w]));
  const order = p.order && p.order.length === snapshot.pending.length ? p.order : snapshot.pending.map((s) => s.id);
  return order.map((id, i) => {
    const s = byId.get(id)!;
    const reason = reasons.get(id);
    return {
      position: i + 1,
      sessionId: id,
      user: s.user,
      gpus: s.gpus,
      priority: s.priority,
      queuedMs: Math.max(0, nowMs - (s.queuedAtMs ?? s.submittedAtMs)),
      state: reason ? 'waiting' : 'starting',
      ...(reason && { reason }),
      ...(s.expectedDurationMs !== undefined && { expectedDurationMs: s.expectedDurationMs }),
      ...(s.expectedDurationSource !== undefined && { expectedDurationSource: s.expectedDurationSource }),
    };
  });
}

/** `nsml queue why SESSION`: the session's queue entry; throws when it is not queued. */
export function explainWait(snapshot: Snapshot, nowMs: number, sessionId: string, decide: Decide = decideDefault, plan?: Plan): QueueEntry {
  if (!snapshot.pending.some((s) => s.id === sessionId)) {
    throw new NsmlError(ErrorCodes.SESSION_NOT_FOUND, `${sessionId} is not queued; \`nsml queue\` lists the queued sessions and \`nsml ps\` the running ones`);
  }
  return queueView(snapshot, nowMs, decide, plan).find((e) => e.sessionId === sessionId)!;
}

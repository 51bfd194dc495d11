import { validateUser } from '../../common/names.js';
import type { QueueEntry, QueueResponse, SessionServiceHandlers } from '../../common/proto/types.js';
import type { CoordinatorContext } from '../context.js';
import type { QueueEntry as SchedulerQueueEntry } from '../scheduler/queue-view.js';
import type { SessionRow } from '../store/types.js';
import { sessionFor } from '../auth/session-access.js';
import { unary, userOf } from './grpc-util.js';

/** A queue line of the scheduler as the wire shows it. */
export function toQueueEntryProto(e: SchedulerQueueEntry, s: SessionRow | undefined): QueueEntry {
  return {
    position: e.position, session: e.sessionId, user: e.user, gpus: e.gpus, gpusPerNode: s?.gpusPerNode ?? 0,
    priority: e.priority, waitedMs: e.queuedMs, state: e.state, reasonKind: e.reason?.kind ?? '',
    reason: e.reason?.message ?? '', blockedBy: e.reason?.blockedBy ?? '', expectedDurationMs: e.expectedDurationMs ?? 0,
    expectedDurationSource: e.expectedDurationSource ?? '', preemptions: s?.preemptions ?? 0,
  };
}

/** `queue why` for a session that is not queued: its state and why it is in it. */
function notQueued(s: SessionRow): QueueEntry {
  return {
    position: 0, session: s.name, user: s.user, gpus: s.gpus, gpusPerNode: s.gpusPerNode, priority: s.priority,
    waitedMs: 0, state: s.state, reasonKind: '', reason: s.reason, blockedBy: '',
    expectedDurationMs: s.timeLimitS * 1000, expectedDurationSource: s.timeLimitS > 0 ? 'declared' : '', preemptions: s.preemptions,
  };
}

/** SessionService.Queue and QueueWhy: the scheduling policy's view of the queue, nothing applied. */
export function queueHandlers(ctx: CoordinatorContext): Pick<SessionServiceHandlers, 'Queue' | 'QueueWhy'> {
  return {
    Queue: unary((req, call): QueueResponse => {
      userOf(ctx.auth, call.metadata);
      const only = req.user === '' || req.user === '*' ? undefined : validateUser(req.user);
      const view = ctx.scheduler.queue();
      const entries = view.entries
        .filter((e) => only === undefined || e.user === only)
        .map((e) => toQueueEntryProto(e, ctx.store.getSession(e.sessionId)));
      return { entries, policy: ctx.options.policy, nowMs: view.nowMs };
    }),
    QueueWhy: unary((req, call): QueueEntry => {
      const s = sessionFor(ctx.store, userOf(ctx.auth, call.metadata), req.name, 'read');
      if (s.state !== 'queued') return notQueued(s);
      return toQueueEntryProto(ctx.scheduler.why(s.name), s);
    }),
  };
}

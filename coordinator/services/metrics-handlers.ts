import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { MetricPoint, SessionServiceHandlers, TimelineEvent } from '../../common/proto/types.js';
import type { CoordinatorContext } from '../context.js';
import { storedKey } from '../metrics/metric-key.js';
import type { MetricPointRow, TimelineEventRow } from '../metrics/types.js';
import { sessionFor } from '../auth/session-access.js';
import { unary, userOf } from './grpc-util.js';

export const MAX_METRIC_POINTS = 10_000;
const MAX_EVENTS = 10_000;

function toPoint(r: MetricPointRow): MetricPoint {
  return { cursor: r.cursor, rank: r.rank, tsMs: r.tsMs, step: r.step, key: r.key, value: r.value, summary: r.summary };
}

function toEvent(e: TimelineEventRow): TimelineEvent {
  const out: TimelineEvent = {
    cursor: e.cursor, rank: e.rank, tsMs: e.tsMs, kind: e.kind, name: e.name, valueJson: e.valueJson, oldJson: e.oldJson, session: e.sourceSession,
  };
  if (e.step !== null) out.step = e.step;
  return out;
}

/** SessionService.Metrics: a page of stored points (or the latest per key) and the timeline. */
export function metricsHandlers(ctx: CoordinatorContext): Pick<SessionServiceHandlers, 'Metrics'> {
  return {
    Metrics: unary((req, call) => {
      const s = sessionFor(ctx.store, userOf(ctx.auth, call.metadata), req.name, 'read');
      if (!Number.isSafeInteger(req.fromCursor) || req.fromCursor < 0) {
        throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `from_cursor must be 0 or the next_cursor of an earlier answer; got ${req.fromCursor}`);
      }
      if (req.limit < 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `limit must be 0 (the most, ${MAX_METRIC_POINTS}) or positive; got ${req.limit}`);
      const key = req.key === '' ? undefined : storedKey(ctx.store.metrics, s.name, req.key);
      const limit = req.limit === 0 ? MAX_METRIC_POINTS : Math.min(req.limit, MAX_METRIC_POINTS);
      const metrics = ctx.store.metrics;
      let rows: MetricPointRow[];
      let more = false;
      if (req.latest) {
        rows = metrics.latest(s.name, key);
      } else {
        rows = metrics.readPoints(s.name, key, req.fromCursor, limit + 1);
        more = rows.length > limit;
        if (more) rows = rows.slice(0, limit);
      }
      const next = rows.reduce((m, r) => Math.max(m, r.cursor), req.latest ? 0 : req.fromCursor);
      return {
        points: rows.map(toPoint),
        events: metrics.events(s.name, MAX_EVENTS).map(toEvent),
        nextCursor: next,
        more,
        dropped: metrics.dropped(s.name),
      };
    }),
  };
}

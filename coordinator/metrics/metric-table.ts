import type Database from 'better-sqlite3';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { MetricAckRow, MetricPointRow, MetricTable, NewMetricBatch, TimelineEventRow } from './types.js';

interface PointRecord {
  cursor: number;
  session: string;
  epoch: number;
  rank: number;
  tsMs: number;
  step: number;
  key: string;
  value: number | null;
  summary: number;
}

const POINT_COLUMNS = 'cursor, session, epoch, rank, ts_ms AS tsMs, step, key, value, summary';
const EVENT_COLUMNS = `cursor, epoch, rank, ts_ms AS tsMs, step, kind, name, value_json AS valueJson, old_json AS oldJson,
  source_session AS sourceSession`;

/** SQLite has no NaN: it stores NULL, which reads back as NaN (a missing value is never stored). */
function toPoint(r: PointRecord): MetricPointRow {
  return { ...r, value: r.value === null ? NaN : r.value, summary: r.summary === 1 };
}

function sqlValue(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

/** The metric rows (see types.ts); prepared statements over the coordinator's database. */
export function metricTable(db: Database.Database): MetricTable {
  const markOf = db.prepare('SELECT seq FROM metric_marks WHERE session = ? AND epoch = ? AND rank = ?').pluck();
  const setMark = db.prepare(
    `INSERT INTO metric_marks (session, epoch, rank, seq, dropped) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (session, epoch, rank) DO UPDATE SET seq = excluded.seq, dropped = dropped + excluded.dropped`,
  );
  const insertPoint = db.prepare(
    'INSERT INTO metrics (session, epoch, rank, ts_ms, step, key, value, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertEvent = db.prepare(
    `INSERT INTO metric_events (session, epoch, rank, ts_ms, step, kind, name, value_json, old_json, source_session)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const upsertSummary = db.prepare(
    `INSERT INTO session_summary (session, key, value, step, ts_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (session, key) DO UPDATE SET value = excluded.value, step = excluded.step, ts_ms = excluded.ts_ms`,
  );
  const readAll = db.prepare(`SELECT ${POINT_COLUMNS} FROM metrics WHERE session = ? AND cursor > ? ORDER BY cursor LIMIT ?`);
  const readKey = db.prepare(`SELECT ${POINT_COLUMNS} FROM metrics WHERE session = ? AND key = ? AND cursor > ? ORDER BY cursor LIMIT ?`);
  const latestAll = db.prepare(
    `SELECT ${POINT_COLUMNS} FROM metrics WHERE cursor IN (SELECT MAX(cursor) FROM metrics WHERE session = ? GROUP BY key) ORDER BY key`,
  );
  const latestKey = db.prepare(`SELECT ${POINT_COLUMNS} FROM metrics WHERE session = ? AND key = ? ORDER BY cursor DESC LIMIT 1`);
  const countAll = db.prepare('SELECT COUNT(*) FROM metrics WHERE session = ?').pluck();
  const countKey = db.prepare('SELECT COUNT(*) FROM metrics WHERE session = ? AND key = ?').pluck();
  const events = db.prepare(`SELECT ${EVENT_COLUMNS} FROM metric_events WHERE session = ? ORDER BY cursor LIMIT ?`);
  const summary = db.prepare('SELECT key, value FROM session_summary WHERE session = ? ORDER BY key');
  const dropped = db.prepare('SELECT COALESCE(SUM(dropped), 0) FROM metric_marks WHERE session = ?').pluck();
  const acks = db.prepare(
    `SELECT a.session AS session, a.epoch AS epoch, a.rank AS rank, COALESCE(m.seq, 0) AS seq
     FROM assignments a JOIN sessions s ON s.name = a.session
     LEFT JOIN metric_marks m ON m.session = a.session AND m.epoch = a.epoch AND m.rank = a.rank
     WHERE a.node_id = ? AND (s.ended_ms = 0 OR s.ended_ms >= ?)
     ORDER BY s.seq, a.epoch, a.rank`,
  );

  const claimSeq: MetricTable['claimSeq'] = (src) => claim(src, 0);
  /**
   * Gap-free: only the batch right after the mark is stored (true); one at or before it is a
   * repeat (false); one past a gap throws, because storing it would acknowledge the missing one.
   */
  const claim = (src: { session: string; epoch: number; rank: number; seq: number }, droppedCount: number): boolean => {
    const stored = (markOf.get(src.session, src.epoch, src.rank) as number | undefined) ?? 0;
    if (src.seq <= stored) return false;
    if (src.seq !== stored + 1) {
      throw new NsmlError(ErrorCodes.SEQUENCE_GAP, `telemetry of rank ${src.rank} of ${src.session} (epoch ${src.epoch}) jumped from ${stored} to ${src.seq}; the agent must replay from ${stored + 1}`);
    }
    setMark.run(src.session, src.epoch, src.rank, src.seq, droppedCount);
    return true;
  };

  const insertBatch: MetricTable['insertBatch'] = (b) =>
    db.transaction(() => {
      if (!claim(b, b.dropped)) return { stored: false, points: 0, events: 0 };
      let points = 0;
      for (const r of b.records) {
        const ts = Math.round(r.tsMs);
        for (const [key, value] of Object.entries(r.values)) {
          insertPoint.run(b.session, b.epoch, b.rank, ts, r.step, key, sqlValue(value), r.summary ? 1 : 0);
          if (r.summary) upsertSummary.run(b.session, key, sqlValue(value), r.step, ts);
          points++;
        }
      }
      for (const e of b.events) {
        insertEvent.run(b.session, b.epoch, b.rank, Math.round(e.tsMs), e.step, e.kind, e.name, e.valueJson, e.oldJson, e.sourceSession);
      }
      return { stored: true, points, events: b.events.length };
    })();

  return {
    claimSeq,
    insertBatch,
    readPoints: (session, key, afterCursor, limit) =>
      ((key === undefined ? readAll.all(session, afterCursor, limit) : readKey.all(session, key, afterCursor, limit)) as PointRecord[]).map(toPoint),
    latest: (session, key) => ((key === undefined ? latestAll.all(session) : latestKey.all(session, key)) as PointRecord[]).map(toPoint),
    countPoints: (session, key) => (key === undefined ? countAll.get(session) : countKey.get(session, key)) as number,
    events: (session, limit) => events.all(session, limit) as TimelineEventRow[],
    summaryOf: (session) => {
      const out: Record<string, number> = {};
      for (const r of summary.all(session) as Array<{ key: string; value: number | null }>) out[r.key] = r.value === null ? NaN : r.value;
      return out;
    },
    dropped: (session) => dropped.get(session) as number,
    acksForNode: (nodeId, sinceMs) => acks.all(nodeId, sinceMs) as MetricAckRow[],
  };
}

import type Database from 'better-sqlite3';
import type { LogAckRow, StoredLogLine, Store } from './types.js';

type LogMethods = Pick<Store, 'insertLogs' | 'readLogs' | 'logAcksForNode' | 'logTailStart'>;

const COLUMNS = 'cursor, session, epoch, rank, seq, ts_ms AS tsMs, stream, text';

export function logMethods(db: Database.Database): LogMethods {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO logs (session, epoch, rank, seq, ts_ms, stream, text) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const mark = db.prepare('SELECT acked FROM log_marks WHERE session = ? AND epoch = ? AND rank = ?');
  const setMark = db.prepare(
    `INSERT INTO log_marks (session, epoch, rank, acked) VALUES (?, ?, ?, ?)
     ON CONFLICT (session, epoch, rank) DO UPDATE SET acked = excluded.acked`,
  );
  const after = db.prepare(
    'SELECT seq FROM logs WHERE session = ? AND epoch = ? AND rank = ? AND seq > ? ORDER BY seq LIMIT 5000',
  ).pluck();
  const readAll = db.prepare(`SELECT ${COLUMNS} FROM logs WHERE session = ? AND cursor > ? ORDER BY cursor LIMIT ?`);
  const readRank = db.prepare(`SELECT ${COLUMNS} FROM logs WHERE session = ? AND cursor > ? AND rank = ? ORDER BY cursor LIMIT ?`);
  const tailAll = db.prepare('SELECT cursor FROM logs WHERE session = ? ORDER BY cursor DESC LIMIT 1 OFFSET ?').pluck();
  const tailRank = db.prepare('SELECT cursor FROM logs WHERE session = ? AND rank = ? ORDER BY cursor DESC LIMIT 1 OFFSET ?').pluck();
  const acks = db.prepare(
    `SELECT a.session AS session, a.rank AS rank, COALESCE(m.acked, 0) AS seq
     FROM assignments a JOIN sessions s ON s.name = a.session AND s.epoch = a.epoch
     LEFT JOIN log_marks m ON m.session = a.session AND m.epoch = a.epoch AND m.rank = a.rank
     WHERE a.node_id = ? AND a.state != 'exited' AND (s.ended_ms = 0 OR s.ended_ms >= ?)
     ORDER BY s.seq, a.rank`,
  );

  const advance = (session: string, epoch: number, rank: number): number => {
    const start = (mark.get(session, epoch, rank) as { acked: number } | undefined)?.acked ?? 0;
    let acked = start;
    for (;;) {
      const seqs = after.all(session, epoch, rank, acked) as number[];
      let moved = false;
      for (const s of seqs) {
        if (s !== acked + 1) break;
        acked = s;
        moved = true;
      }
      if (!moved || seqs.length < 5000 || seqs[seqs.length - 1] !== acked) break;
    }
    if (acked !== start) setMark.run(session, epoch, rank, acked);
    return acked;
  };

  return {
    insertLogs: (session, epoch, rank, lines) =>
      db.transaction(() => {
        const inserted: StoredLogLine[] = [];
        for (const l of lines) {
          const r = insert.run(session, epoch, rank, l.seq, l.tsMs, l.stream, l.text);
          if (r.changes === 1) inserted.push({ cursor: Number(r.lastInsertRowid), session, epoch, rank, ...l });
        }
        return { inserted, ackSeq: advance(session, epoch, rank) };
      })(),
    readLogs: (session, afterCursor, rank, limit) =>
      (rank < 0 ? readAll.all(session, afterCursor, limit) : readRank.all(session, afterCursor, rank, limit)) as StoredLogLine[],
    logAcksForNode: (nodeId, sinceMs) => acks.all(nodeId, sinceMs) as LogAckRow[],
    logTailStart: (session, rank, lines) =>
      ((rank < 0 ? tailAll.get(session, lines) : tailRank.get(session, rank, lines)) as number | undefined) ?? 0,
  };
}

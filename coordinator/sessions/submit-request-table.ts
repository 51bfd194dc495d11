import type Database from 'better-sqlite3';

/** The session that one (user, request id) created, and the hash of that request. */
export interface SubmitRequestRow {
  user: string;
  requestId: string;
  session: string;
  requestHash: string;
  createdMs: number;
}

/**
 * Submit request ids in the coordinator's SQLite state (idempotent submit). Plain reads and
 * writes; the rules live in submit-once.ts. A row is inserted in the transaction that creates
 * its session, so a session and its request id are stored together or not at all.
 */
export interface SubmitRequestTable {
  get(user: string, requestId: string): SubmitRequestRow | undefined;
  /** Throws (SQLite UNIQUE) when the user already has this request id. */
  insert(row: SubmitRequestRow): void;
}

interface SubmitRequestRecord {
  user: string; request_id: string; session: string; request_hash: string; created_ms: number;
}

export function submitRequestTable(db: Database.Database): SubmitRequestTable {
  const get = db.prepare('SELECT * FROM submit_requests WHERE user = ? AND request_id = ?');
  const insert = db.prepare(
    `INSERT INTO submit_requests (user, request_id, session, request_hash, created_ms)
     VALUES (@user, @requestId, @session, @requestHash, @createdMs)`,
  );
  return {
    get(user, requestId) {
      const r = get.get(user, requestId) as SubmitRequestRecord | undefined;
      return r && { user: r.user, requestId: r.request_id, session: r.session, requestHash: r.request_hash, createdMs: r.created_ms };
    },
    insert(row) {
      insert.run(row);
    },
  };
}

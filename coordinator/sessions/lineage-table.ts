import type Database from 'better-sqlite3';

/** How a session came to be: submitted anew, or continuing another session's checkpoint. */
export type SessionKind = 'normal' | 'fork' | 'resume';

/** A fork's or resume's origin: the parent session and the checkpoint of it that it loads. */
export interface Lineage {
  parent: string;
  kind: Exclude<SessionKind, 'normal'>;
  checkpoint: string;
}

/**
 * Where forked and resumed sessions come from, in the coordinator's SQLite state. Plain reads and
 * writes; the rules live in fork-request.ts. A row is inserted in the transaction that creates
 * its session; a session without one is `normal`.
 */
export interface LineageTable {
  put(session: string, lineage: Lineage): void;
  get(session: string): Lineage | undefined;
}

export function lineageTable(db: Database.Database): LineageTable {
  const put = db.prepare('INSERT OR REPLACE INTO session_lineage (session, parent, kind, checkpoint) VALUES (?, ?, ?, ?)');
  const get = db.prepare('SELECT parent, kind, checkpoint FROM session_lineage WHERE session = ?');
  return {
    put: (session, l) => void put.run(session, l.parent, l.kind, l.checkpoint),
    get: (session) => get.get(session) as Lineage | undefined,
  };
}

import type Database from 'better-sqlite3';

export type CheckpointSource = 'sdk' | 'watcher';

/** One registered checkpoint: SESSION/NAME over a manifest blob. */
export interface CheckpointRow {
  session: string;
  name: string;
  epoch: number;
  manifest: string;
  files: number;
  bytes: number;
  summary: Record<string, number>;
  source: CheckpointSource;
  createdMs: number;
}

/**
 * The checkpoints' rows in the coordinator's SQLite state. Plain reads and writes; the rules
 * (complete manifests, epochs, access) live in checkpoint-registry.ts.
 */
export interface CheckpointTable {
  /** Inserts, or replaces the row of the same session and name; records the time on the session. */
  put(row: CheckpointRow): void;
  get(session: string, name: string): CheckpointRow | undefined;
  /** Newest first; `limit` 0 for all. */
  list(session: string, limit: number): CheckpointRow[];
  /** Names only, newest first. */
  names(session: string, limit: number): string[];
  count(session: string): number;
  /** Deletes one row; false when there was none. */
  remove(session: string, name: string): boolean;
  /** When the session last registered a checkpoint; undefined when it never did. */
  lastCheckpointAt(session: string): number | undefined;
  /** The last checkpoint time of every session in these states that has one (for the scheduler's snapshot). */
  lastCheckpointTimes(states: readonly string[]): Map<string, number>;
}

interface CheckpointRecord {
  session: string; name: string; epoch: number; manifest: string; files: number; bytes: number;
  summary_json: string; source: string; created_ms: number;
}

/** Summary values as JSON, keeping NaN and the infinities (JSON has no spelling for them). */
export function encodeSummary(summary: Record<string, number>): string {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(summary)) out[k] = Number.isFinite(v) ? v : String(v);
  return JSON.stringify(out);
}

export function decodeSummary(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, number | string>)) out[k] = Number(v);
  return out;
}

function toRow(r: CheckpointRecord): CheckpointRow {
  return {
    session: r.session, name: r.name, epoch: r.epoch, manifest: r.manifest, files: r.files, bytes: r.bytes,
    summary: decodeSummary(r.summary_json), source: r.source as CheckpointSource, createdMs: r.created_ms,
  };
}

const NO_LIMIT = -1;

export function checkpointTable(db: Database.Database): CheckpointTable {
  const upsert = db.prepare(
    `INSERT INTO checkpoints (session, name, epoch, manifest, files, bytes, summary_json, source, created_ms)
     VALUES (@session, @name, @epoch, @manifest, @files, @bytes, @summaryJson, @source, @createdMs)
     ON CONFLICT (session, name) DO UPDATE SET epoch = excluded.epoch, manifest = excluded.manifest, files = excluded.files,
       bytes = excluded.bytes, summary_json = excluded.summary_json, source = excluded.source, created_ms = excluded.created_ms`,
  );
  const mark = db.prepare('UPDATE sessions SET last_checkpoint_ms = MAX(last_checkpoint_ms, ?) WHERE name = ?');
  const one = db.prepare('SELECT * FROM checkpoints WHERE session = ? AND name = ?');
  const list = db.prepare('SELECT * FROM checkpoints WHERE session = ? ORDER BY created_ms DESC, name DESC LIMIT ?');
  const names = db.prepare('SELECT name FROM checkpoints WHERE session = ? ORDER BY created_ms DESC, name DESC LIMIT ?').pluck();
  const count = db.prepare('SELECT COUNT(*) FROM checkpoints WHERE session = ?').pluck();
  const remove = db.prepare('DELETE FROM checkpoints WHERE session = ? AND name = ?');
  const last = db.prepare('SELECT last_checkpoint_ms FROM sessions WHERE name = ?').pluck();
  return {
    put: (row) => {
      const { summary, ...rest } = row;
      db.transaction(() => {
        upsert.run({ ...rest, summaryJson: encodeSummary(summary) });
        mark.run(row.createdMs, row.session);
      })();
    },
    get: (session, name) => {
      const r = one.get(session, name) as CheckpointRecord | undefined;
      return r ? toRow(r) : undefined;
    },
    list: (session, limit) => (list.all(session, limit > 0 ? limit : NO_LIMIT) as CheckpointRecord[]).map(toRow),
    names: (session, limit) => names.all(session, limit > 0 ? limit : NO_LIMIT) as string[],
    count: (session) => count.get(session) as number,
    remove: (session, name) => remove.run(session, name).changes > 0,
    lastCheckpointAt: (session) => {
      const ms = last.get(session) as number | undefined;
      return ms ? ms : undefined;
    },
    lastCheckpointTimes: (states) => {
      const out = new Map<string, number>();
      if (states.length === 0) return out;
      const marks = states.map(() => '?').join(', ');
      const rows = db.prepare(`SELECT name, last_checkpoint_ms AS ms FROM sessions WHERE last_checkpoint_ms > 0 AND state IN (${marks})`)
        .all(...states) as Array<{ name: string; ms: number }>;
      for (const r of rows) out.set(r.name, r.ms);
      return out;
    },
  };
}

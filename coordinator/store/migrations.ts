import type Database from 'better-sqlite3';

/** Schema steps; step i brings `user_version` from i to i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE counters (
    user TEXT NOT NULL,
    dataset TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (user, dataset)
  );
  CREATE TABLE sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL,
    dataset TEXT NOT NULL,
    n INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    gpus INTEGER NOT NULL,
    gpus_per_node INTEGER NOT NULL,
    cpus INTEGER NOT NULL,
    memory_mib INTEGER NOT NULL,
    entry TEXT NOT NULL,
    args_json TEXT NOT NULL,
    env_json TEXT NOT NULL,
    memo TEXT NOT NULL,
    workspace TEXT NOT NULL,
    priority INTEGER NOT NULL,
    time_limit_s INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER NOT NULL DEFAULT 0,
    ended_ms INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    epoch INTEGER NOT NULL DEFAULT 0,
    master_port INTEGER NOT NULL DEFAULT 0,
    stop_requested_ms INTEGER NOT NULL DEFAULT 0,
    stop_grace_ms INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sessions_state ON sessions (state, seq);
  CREATE INDEX sessions_user ON sessions (user, seq);
  CREATE TABLE session_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX session_events_session ON session_events (session, id);
  CREATE TABLE assignments (
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    gpu_indices_json TEXT NOT NULL,
    state TEXT NOT NULL,
    exit_code INTEGER,
    signal TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session, epoch, rank)
  );
  CREATE INDEX assignments_node ON assignments (node_id);
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    inventory_json TEXT NOT NULL,
    state TEXT NOT NULL,
    draining INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    last_heartbeat_ms INTEGER NOT NULL,
    joined_ms INTEGER NOT NULL
  );
  CREATE TABLE logs (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    stream TEXT NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (session, epoch, rank, seq)
  );
  CREATE INDEX logs_session_cursor ON logs (session, cursor);
  CREATE TABLE log_marks (
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    acked INTEGER NOT NULL,
    PRIMARY KEY (session, epoch, rank)
  );
  `,
  // Datasets (coordinator/datasets/dataset-table.ts): versions over manifest blobs, readers of
  // private ones, and the versions each session pinned at submit.
  `
  CREATE TABLE dataset_counters (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
  );
  CREATE TABLE datasets (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    private INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE TABLE dataset_readers (
    name TEXT NOT NULL,
    user TEXT NOT NULL,
    PRIMARY KEY (name, user)
  );
  CREATE TABLE dataset_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    description TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  );
  CREATE TABLE session_datasets (
    session TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (session, position)
  );
  CREATE INDEX session_datasets_version ON session_datasets (name, version);
  `,
];

/** Brings the database to the newest schema, one transaction per step. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the state database has schema version ${current}, newer than this coordinator knows (${MIGRATIONS.length}); upgrade nsml`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

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
  // Scheduling (coordinator/sessions): when a session last entered the queue, when its current
  // run was placed, GPU time of its earlier runs, an in-progress preemption, and each user's
  // decayed GPU usage for fair share.
  `
  ALTER TABLE sessions ADD COLUMN queued_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN placed_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN attained_gpu_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN preempted_for TEXT NOT NULL DEFAULT '';
  ALTER TABLE sessions ADD COLUMN preemptions INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX sessions_history ON sessions (user, dataset, entry, state, ended_ms);
  CREATE TABLE user_usage (
    user TEXT PRIMARY KEY,
    gpu_seconds REAL NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  `,
  // Checkpoints (coordinator/checkpoints/checkpoint-table.ts): one row per SESSION/NAME (a new
  // save of a name replaces its row), and on the session the time of its latest checkpoint.
  `
  CREATE TABLE checkpoints (
    session TEXT NOT NULL,
    name TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    summary_json TEXT NOT NULL,
    source TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (session, name)
  );
  CREATE INDEX checkpoints_session_time ON checkpoints (session, created_ms);
  ALTER TABLE sessions ADD COLUMN last_checkpoint_ms INTEGER NOT NULL DEFAULT 0;
  `,
  // Metrics and the command queue (coordinator/metrics, coordinator/commands): metric points
  // (value NULL = NaN), the metric timeline's events, per-rank stored seq and drop counts, each
  // session's summary values, and operator commands with their per-rank delivery.
  `
  CREATE TABLE metrics (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    step REAL NOT NULL,
    key TEXT NOT NULL,
    value REAL,
    summary INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX metrics_session_cursor ON metrics (session, cursor);
  CREATE INDEX metrics_session_key ON metrics (session, key, cursor);
  CREATE TABLE metric_events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    step REAL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    value_json TEXT NOT NULL,
    old_json TEXT NOT NULL,
    source_session TEXT NOT NULL
  );
  CREATE INDEX metric_events_session ON metric_events (session, cursor);
  CREATE TABLE metric_marks (
    session TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    dropped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session, epoch, rank)
  );
  CREATE TABLE session_summary (
    session TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL,
    step REAL NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (session, key)
  );
  CREATE TABLE commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session TEXT NOT NULL,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    args_json TEXT NOT NULL,
    at_step REAL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    delivered_ms INTEGER NOT NULL DEFAULT 0,
    finished_ms INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX commands_state ON commands (state, seq);
  CREATE INDEX commands_session ON commands (session, seq);
  CREATE TABLE command_targets (
    command TEXT NOT NULL,
    rank INTEGER NOT NULL,
    state TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    node_id TEXT NOT NULL DEFAULT '',
    delivered_ms INTEGER NOT NULL DEFAULT 0,
    finished_ms INTEGER NOT NULL DEFAULT 0,
    step REAL,
    result_json TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (command, rank)
  );
  `,
  `
  ALTER TABLE sessions ADD COLUMN idle INTEGER NOT NULL DEFAULT 0;
  `,
  `
  ALTER TABLE nodes ADD COLUMN secret_hash TEXT NOT NULL DEFAULT '';
  ALTER TABLE nodes ADD COLUMN disk_full TEXT NOT NULL DEFAULT '';
  `,
  // Idempotent submit (coordinator/sessions/submit-request-table.ts): the session each
  // (user, request id) created, with a hash of the request to refuse a reuse for another one.
  `
  CREATE TABLE submit_requests (
    user TEXT NOT NULL,
    request_id TEXT NOT NULL,
    session TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (user, request_id)
  );
  `,
  // Users, their tokens (only hashes), sessions shared with other users, and who uploaded
  // which blob (coordinator/auth: who may read a blob).
  `
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    admin INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL DEFAULT 0,
    revoked_ms INTEGER NOT NULL DEFAULT 0,
    last_used_ms INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX tokens_user ON tokens (user);
  CREATE TABLE session_shares (
    session TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (session, user)
  );
  CREATE INDEX session_shares_user ON session_shares (user);
  CREATE TABLE blob_uploads (
    hash TEXT NOT NULL,
    user TEXT NOT NULL,
    PRIMARY KEY (hash, user)
  ) WITHOUT ROWID;
  `,
  // Fork and resume (coordinator/sessions/lineage-table.ts): the session each one continues from.
  `
  CREATE TABLE session_lineage (
    session TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    kind TEXT NOT NULL,
    checkpoint TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX session_lineage_parent ON session_lineage (parent);
  `,
  // Environments (agent/env): what a session asks of its node's environment, JSON
  // {"python","image","shmSizeMib"} (common/session-runtime.ts); '{}' for none.
  `
  ALTER TABLE sessions ADD COLUMN runtime_json TEXT NOT NULL DEFAULT '{}';
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

import type Database from 'better-sqlite3';
import type {
  AssignmentRow, ListSessionsQuery, NewSession, RankPatch, SessionEventRow, SessionPatch, SessionRow, Store,
} from './types.js';

type SessionMethods = Pick<Store,
  'insertSession' | 'getSession' | 'listSessions' | 'sessionsInStates' | 'countInStates' | 'countByStateAndUser' | 'updateSession' | 'addEvent' | 'events'
  | 'insertAssignments' | 'assignments' | 'activeAssignments' | 'updateRank'>;

interface SessionRecord {
  seq: number; name: string; user: string; dataset: string; n: number; state: string; reason: string;
  gpus: number; gpus_per_node: number; cpus: number; memory_mib: number; entry: string; args_json: string;
  env_json: string; memo: string; workspace: string; priority: number; time_limit_s: number; created_ms: number;
  started_ms: number; ended_ms: number; exit_code: number | null; epoch: number; master_port: number;
  stop_requested_ms: number; stop_grace_ms: number; queued_ms: number; placed_ms: number; attained_gpu_ms: number;
  preempted_for: string; preemptions: number; idle: number; runtime_json?: string;
}

interface AssignmentRecord {
  session: string; epoch: number; node_id: string; rank: number; gpu_indices_json: string; state: string;
  exit_code: number | null; signal: string; message: string;
}

function toSession(r: SessionRecord): SessionRow {
  return {
    name: r.name, user: r.user, dataset: r.dataset, n: r.n, seq: r.seq, state: r.state as SessionRow['state'],
    reason: r.reason, gpus: r.gpus, gpusPerNode: r.gpus_per_node, cpus: r.cpus, memoryMib: r.memory_mib,
    entry: r.entry, args: JSON.parse(r.args_json) as string[], env: JSON.parse(r.env_json) as Record<string, string>,
    memo: r.memo, workspace: r.workspace, priority: r.priority, timeLimitS: r.time_limit_s, createdMs: r.created_ms,
    startedMs: r.started_ms, endedMs: r.ended_ms, exitCode: r.exit_code ?? undefined, epoch: r.epoch,
    masterPort: r.master_port, stopRequestedMs: r.stop_requested_ms, stopGraceMs: r.stop_grace_ms,
    queuedMs: r.queued_ms || r.created_ms, placedMs: r.placed_ms, attainedGpuMs: r.attained_gpu_ms,
    preemptedFor: r.preempted_for, preemptions: r.preemptions, idle: r.idle === 1,
    ...runtimeOf(r.runtime_json),
  };
}

/** The stored runtime_json; absent when the session asked for the node's defaults. */
function runtimeOf(json: string | undefined): Pick<SessionRow, 'runtime'> {
  const r = json ? (JSON.parse(json) as Partial<NonNullable<SessionRow['runtime']>>) : {};
  if (!r.python && !r.image && !r.shmSizeMib) return {};
  return { runtime: { python: r.python ?? '', image: r.image ?? '', shmSizeMib: r.shmSizeMib ?? 0 } };
}

function toAssignment(r: AssignmentRecord): AssignmentRow {
  return {
    session: r.session, epoch: r.epoch, nodeId: r.node_id, rank: r.rank,
    gpuIndices: JSON.parse(r.gpu_indices_json) as number[], state: r.state as AssignmentRow['state'],
    exitCode: r.exit_code ?? undefined, signal: r.signal, message: r.message,
  };
}

const SESSION_COLUMNS: Record<keyof SessionPatch, string> = {
  state: 'state', reason: 'reason', startedMs: 'started_ms', endedMs: 'ended_ms', exitCode: 'exit_code',
  epoch: 'epoch', masterPort: 'master_port', stopRequestedMs: 'stop_requested_ms', stopGraceMs: 'stop_grace_ms',
  queuedMs: 'queued_ms', placedMs: 'placed_ms', attainedGpuMs: 'attained_gpu_ms', preemptedFor: 'preempted_for',
  preemptions: 'preemptions', idle: 'idle',
};

const RANK_COLUMNS: Record<keyof RankPatch, string> = {
  state: 'state', exitCode: 'exit_code', signal: 'signal', message: 'message',
};

/** Builds `SET a = @a, ...` for the keys present in a patch; caches one statement per key set. */
function patcher<P extends object>(db: Database.Database, table: string, columns: Record<string, string>, where: string) {
  const cache = new Map<string, Database.Statement>();
  return (patch: P, key: Record<string, unknown>): void => {
    const keys = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined || k === 'exitCode').sort();
    if (keys.length === 0) return;
    const id = keys.join(',');
    let stmt = cache.get(id);
    if (!stmt) {
      stmt = db.prepare(`UPDATE ${table} SET ${keys.map((k) => `${columns[k]} = @${k}`).join(', ')} WHERE ${where}`);
      cache.set(id, stmt);
    }
    const values: Record<string, unknown> = { ...key };
    for (const k of keys) values[k] = sqlValue((patch as Record<string, unknown>)[k]);
    stmt.run(values);
  };
}

/** SQLite binds no booleans: they are stored as 0 and 1. */
function sqlValue(v: unknown): unknown {
  return typeof v === 'boolean' ? Number(v) : v ?? null;
}

export function sessionMethods(db: Database.Database): SessionMethods {
  const nextN = db.prepare(
    `INSERT INTO counters (user, dataset, last) VALUES (?, ?, 1)
     ON CONFLICT (user, dataset) DO UPDATE SET last = last + 1 RETURNING last`,
  );
  const insert = db.prepare(
    `INSERT INTO sessions (name, user, dataset, n, state, reason, gpus, gpus_per_node, cpus, memory_mib, entry,
       args_json, env_json, memo, workspace, priority, time_limit_s, created_ms, queued_ms, runtime_json)
     VALUES (@name, @user, @dataset, @n, 'queued', @reason, @gpus, @gpusPerNode, @cpus, @memoryMib, @entry,
       @argsJson, @envJson, @memo, @workspace, @priority, @timeLimitS, @createdMs, @createdMs, @runtimeJson)`,
  );
  const byName = db.prepare('SELECT * FROM sessions WHERE name = ?');
  const addEvent = db.prepare('INSERT INTO session_events (session, ts_ms, state, reason) VALUES (?, ?, ?, ?)');
  const events = db.prepare('SELECT ts_ms AS tsMs, state, reason FROM session_events WHERE session = ? ORDER BY id');
  const countByStateAndUser = db.prepare('SELECT state, user, COUNT(*) AS count FROM sessions GROUP BY state, user ORDER BY state, user');
  const insertAssignment = db.prepare(
    `INSERT INTO assignments (session, epoch, node_id, rank, gpu_indices_json, state)
     VALUES (@session, @epoch, @nodeId, @rank, @gpus, @state)`,
  );
  const assignments = db.prepare('SELECT * FROM assignments WHERE session = ? AND epoch = ? ORDER BY rank');
  const active = db.prepare(
    `SELECT a.* FROM assignments a JOIN sessions s ON s.name = a.session AND s.epoch = a.epoch
     WHERE s.state IN ('scheduled', 'starting', 'running') ORDER BY s.seq, a.rank`,
  );
  const updateSession = patcher<SessionPatch>(db, 'sessions', SESSION_COLUMNS, 'name = @name');
  const updateRank = patcher<RankPatch>(db, 'assignments', RANK_COLUMNS, 'session = @session AND epoch = @epoch AND rank = @rank');

  const get = (name: string): SessionRow | undefined => {
    const r = byName.get(name) as SessionRecord | undefined;
    return r ? toSession(r) : undefined;
  };

  return {
    insertSession: (s: NewSession, nowMs: number, reason: string) =>
      db.transaction(() => {
        const { last } = nextN.get(s.user, s.dataset) as { last: number };
        const name = `${s.user}/${s.dataset}/${last}`;
        insert.run({
          ...s, name, n: last, reason, argsJson: JSON.stringify(s.args), envJson: JSON.stringify(s.env), createdMs: nowMs,
          runtimeJson: JSON.stringify(s.runtime ?? {}),
        });
        addEvent.run(name, nowMs, 'queued', reason);
        return get(name)!;
      })(),
    getSession: get,
    listSessions: (q: ListSessionsQuery) => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.user !== undefined) {
        where.push('user = ?');
        params.push(q.user);
      }
      if (q.states) {
        where.push(`state IN (${q.states.map(() => '?').join(', ')})`);
        params.push(...q.states);
      }
      if (q.dataset !== undefined) {
        where.push('dataset = ?');
        params.push(q.dataset);
      }
      const sql = `SELECT * FROM sessions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
      return (db.prepare(sql).all(...params, q.limit) as SessionRecord[]).map(toSession);
    },
    sessionsInStates: (states) => {
      if (states.length === 0) return [];
      const sql = `SELECT * FROM sessions WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY seq`;
      return (db.prepare(sql).all(...states) as SessionRecord[]).map(toSession);
    },
    countInStates: (states) => {
      if (states.length === 0) return 0;
      const sql = `SELECT COUNT(*) FROM sessions WHERE state IN (${states.map(() => '?').join(', ')})`;
      return db.prepare(sql).pluck().get(...states) as number;
    },
    countByStateAndUser: () => countByStateAndUser.all() as Array<{ state: string; user: string; count: number }>,
    updateSession: (name, patch) => updateSession(patch, { name }),
    addEvent: (name, tsMs, state, reason) => void addEvent.run(name, tsMs, state, reason),
    events: (name) => events.all(name) as SessionEventRow[],
    insertAssignments: (rows) =>
      db.transaction(() => {
        for (const r of rows) insertAssignment.run({ ...r, gpus: JSON.stringify(r.gpuIndices) });
      })(),
    assignments: (session, epoch) => (assignments.all(session, epoch) as AssignmentRecord[]).map(toAssignment),
    activeAssignments: () => (active.all() as AssignmentRecord[]).map(toAssignment),
    updateRank: (session, epoch, rank, patch) => updateRank(patch, { session, epoch, rank }),
  };
}

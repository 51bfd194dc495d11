import type Database from 'better-sqlite3';

/** What the removal of one session deleted. */
export interface RemovedSessionRows {
  logLines: number;
  metricPoints: number;
  checkpoints: number;
}

export interface SessionRemovalMethods {
  /**
   * Deletes a session and everything recorded under its name (events, placements, logs, metrics,
   * the metric timeline, summaries, checkpoints, commands, dataset pins, shares) in one transaction.
   * The blobs its workspace and checkpoints named are left to the blob collector.
   */
  removeSession(name: string): RemovedSessionRows;
}

/** Tables keyed by a `session` column, deleted as they are. */
const BY_SESSION = [
  'session_events', 'assignments', 'log_marks', 'session_datasets', 'metric_events', 'metric_marks', 'session_summary',
  'submit_requests', 'session_shares', 'session_lineage',
];

export function sessionRemovalMethods(db: Database.Database): SessionRemovalMethods {
  const plain = BY_SESSION.map((table) => db.prepare(`DELETE FROM ${table} WHERE session = ?`));
  const logs = db.prepare('DELETE FROM logs WHERE session = ?');
  const metrics = db.prepare('DELETE FROM metrics WHERE session = ?');
  const checkpoints = db.prepare('DELETE FROM checkpoints WHERE session = ?');
  const targets = db.prepare('DELETE FROM command_targets WHERE command IN (SELECT id FROM commands WHERE session = ?)');
  const commands = db.prepare('DELETE FROM commands WHERE session = ?');
  const session = db.prepare('DELETE FROM sessions WHERE name = ?');
  return {
    removeSession: (name) => db.transaction(() => {
      for (const stmt of plain) stmt.run(name);
      targets.run(name);
      commands.run(name);
      const removed = {
        logLines: logs.run(name).changes,
        metricPoints: metrics.run(name).changes,
        checkpoints: checkpoints.run(name).changes,
      };
      session.run(name);
      return removed;
    })(),
  };
}

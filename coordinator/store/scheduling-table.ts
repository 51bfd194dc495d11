import type Database from 'better-sqlite3';
import type { FinishedRun, Store, UsageRow } from './types.js';

type SchedulingMethods = Pick<Store, 'usage' | 'saveUsage' | 'succeededRuns'>;

/** What the scheduler keeps besides sessions: decayed usage per user, and run-time history. */
export function schedulingMethods(db: Database.Database): SchedulingMethods {
  const all = db.prepare('SELECT user, gpu_seconds AS gpuSeconds, updated_ms AS updatedMs FROM user_usage ORDER BY user');
  const upsert = db.prepare(
    `INSERT INTO user_usage (user, gpu_seconds, updated_ms) VALUES (@user, @gpuSeconds, @updatedMs)
     ON CONFLICT (user) DO UPDATE SET gpu_seconds = excluded.gpu_seconds, updated_ms = excluded.updated_ms`,
  );
  // The last run lasted from its placement (or, for rows placed before placed_ms existed, its first start) to its end.
  const runs = db.prepare(
    `SELECT user, dataset, entry, state, ended_ms - (CASE WHEN placed_ms > 0 THEN placed_ms ELSE started_ms END) AS durationMs,
       ended_ms AS endedMs
     FROM sessions
     WHERE user = ? AND dataset = ? AND entry = ? AND state = 'succeeded' AND ended_ms > 0
     ORDER BY ended_ms DESC LIMIT ?`,
  );
  return {
    usage: () => all.all() as UsageRow[],
    saveUsage: (rows) =>
      db.transaction(() => {
        for (const r of rows) upsert.run(r);
      })(),
    succeededRuns: (user, dataset, entry, limit) => runs.all(user, dataset, entry, limit) as FinishedRun[],
  };
}

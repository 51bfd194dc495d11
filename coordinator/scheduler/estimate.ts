/** A finished session, as the run-time estimate needs it. */
export interface PastRun {
  user: string;
  /** '' for scratch. */
  dataset: string;
  entry: string;
  state: string;
  /** Run time of its last run: end − start. */
  durationMs: number;
  endedAtMs: number;
}

export interface EstimateRequest {
  user: string;
  dataset: string;
  entry: string;
  /** `nsml run --time`, ms; 0 or absent when not declared. */
  declaredMs?: number;
}

/** Succeeded runs needed before a run time is learned, and how many recent ones count. */
export const LEARN_MIN_RUNS = 2;
export const LEARN_RECENT_RUNS = 5;

/**
 * The run time the scheduler may plan with: what the user declared with `nsml run --time`;
 * otherwise, once the same user has at least two succeeded sessions on the same dataset and
 * entry, the longest of the last five (a cautious guess, since a backfilled session that runs
 * over delays the head); otherwise unknown, and the session never backfills onto reserved nodes.
 */
export function estimateDuration(req: EstimateRequest, history: PastRun[]): { ms: number; source: 'declared' | 'learned' } | undefined {
  if (req.declaredMs !== undefined && req.declaredMs > 0) return { ms: req.declaredMs, source: 'declared' };
  const same = history
    .filter((r) => r.user === req.user && r.dataset === req.dataset && r.entry === req.entry && r.state === 'succeeded' && r.durationMs > 0)
    .sort((a, b) => b.endedAtMs - a.endedAtMs)
    .slice(0, LEARN_RECENT_RUNS);
  if (same.length < LEARN_MIN_RUNS) return undefined;
  return { ms: same.reduce((m, r) => Math.max(m, r.durationMs), 0), source: 'learned' };
}

import { LEARN_RECENT_RUNS, estimateDuration } from '../scheduler/estimate.js';
import type { SessionRow, Store } from '../store/types.js';

export type DurationEstimate = { ms: number; source: 'declared' | 'learned' } | undefined;

/**
 * The run time the scheduler may plan with, per session: declared with `nsml run --time`, or
 * learned from the same user's succeeded sessions with the same dataset and entry. One
 * estimator serves one pass: each (user, dataset, entry) is looked up once.
 */
export function createEstimator(store: Pick<Store, 'succeededRuns'>): (s: SessionRow) => DurationEstimate {
  const learned = new Map<string, DurationEstimate>();
  return (s) => {
    if (s.timeLimitS > 0) return estimateDuration({ user: s.user, dataset: s.dataset, entry: s.entry, declaredMs: s.timeLimitS * 1000 }, []);
    const key = `${s.user}\0${s.dataset}\0${s.entry}`;
    if (!learned.has(key)) {
      const history = store.succeededRuns(s.user, s.dataset, s.entry, LEARN_RECENT_RUNS)
        .map((r) => ({ user: r.user, dataset: r.dataset, entry: r.entry, state: r.state, durationMs: r.durationMs, endedAtMs: r.endedMs }));
      learned.set(key, estimateDuration({ user: s.user, dataset: s.dataset, entry: s.entry }, history));
    }
    return learned.get(key);
  };
}

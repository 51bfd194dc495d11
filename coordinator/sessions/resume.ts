import type { SessionRow, Store } from '../store/types.js';

/**
 * Environment that makes a requeued (preempted) session resume: the SDK's `paused()` and
 * `load()` read NSML_RESUME_FROM and NSML_RESUME_CHECKPOINT. Empty for a first run, or when
 * the session never registered a checkpoint (it starts over).
 */
export function resumeEnv(store: Pick<Store, 'checkpoints'>, s: Pick<SessionRow, 'name' | 'preemptions'>): Record<string, string> {
  if (s.preemptions === 0) return {};
  const newest = store.checkpoints.names(s.name, 1)[0];
  return newest === undefined ? {} : { NSML_RESUME_FROM: s.name, NSML_RESUME_CHECKPOINT: newest };
}

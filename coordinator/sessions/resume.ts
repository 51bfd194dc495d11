import { reservedArg, withoutPauseArgs, withPauseArgs } from '../../common/reserved-args.js';
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

/**
 * The arguments of a requeued session: a fork (its entry carries `--iteration`) that saved
 * checkpoints of its own resumes from its newest one, not from its parent's again (with
 * resumeEnv, NSML_RESUME_FROM then names the fork itself). Otherwise its arguments as stored.
 */
export function resumeArgs(store: Pick<Store, 'checkpoints'>, s: Pick<SessionRow, 'name' | 'preemptions' | 'args'>): string[] {
  if (s.preemptions === 0 || reservedArg(s.args, 'iteration') === undefined) return s.args;
  const newest = store.checkpoints.names(s.name, 1)[0];
  return newest === undefined ? s.args : withPauseArgs(withoutPauseArgs(s.args), newest);
}

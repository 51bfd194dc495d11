import type { AssignmentRow, SessionRow, SessionState } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import { stoppedByTimeLimit, timeLimitReason } from './time-limit.js';

export interface GangOutcome {
  state: SessionState;
  reason: string;
  exitCode?: number;
  /** Ask the ranks that still run to stop. */
  stopOthers?: boolean;
}

type RankView = Pick<AssignmentRow, 'rank' | 'state' | 'exitCode' | 'signal' | 'message'>;

export function rankFailed(r: RankView): boolean {
  return r.state === 'exited' && r.exitCode !== 0;
}

export function describeRankEnd(r: RankView): string {
  if (r.message) return `rank ${r.rank}: ${r.message}`;
  if (r.signal) return `rank ${r.rank} was killed by ${r.signal}`;
  if (r.exitCode === undefined) return `rank ${r.rank} ended without an exit code`;
  return `rank ${r.rank} exited with code ${r.exitCode}`;
}

/**
 * The session state that its ranks imply, or undefined when it stays as it is. Pure: the gang
 * rules of proto/agent-stream.md in one place.
 */
export function gangOutcome(
  session: Pick<SessionRow, 'state' | 'stopRequestedMs'> & Partial<Pick<SessionRow, 'preemptedFor' | 'timeLimitS' | 'startedMs' | 'placedMs'>>,
  ranks: readonly RankView[],
): GangOutcome | undefined {
  if (isTerminal(session.state) || session.state === 'queued' || ranks.length === 0) return undefined;
  const allExited = ranks.every((r) => r.state === 'exited');
  const failed = ranks.find(rankFailed);
  if (session.stopRequestedMs > 0) {
    if (!allExited) return undefined;
    if (session.preemptedFor) return { state: 'preempted', reason: `preempted for ${session.preemptedFor}` };
    const reason = stoppedByTimeLimit({ timeLimitS: 0, startedMs: 0, placedMs: 0, ...session }) ? timeLimitReason({ timeLimitS: session.timeLimitS ?? 0 }) : 'stopped on request';
    return { state: 'stopped', reason, ...(failed?.exitCode !== undefined ? { exitCode: failed.exitCode } : {}) };
  }
  if (failed) {
    const out: GangOutcome = { state: 'failed', reason: describeRankEnd(failed), stopOthers: !allExited };
    if (failed.exitCode !== undefined) out.exitCode = failed.exitCode;
    return out;
  }
  if (allExited) return { state: 'succeeded', reason: ranks.length > 1 ? `all ${ranks.length} ranks exited with code 0` : 'exited with code 0', exitCode: 0 };
  if (session.state !== 'running' && ranks.every((r) => r.state === 'running' || r.state === 'exited')) {
    return { state: 'running', reason: ranks.length > 1 ? `all ${ranks.length} ranks are running` : 'the process is running' };
  }
  if (session.state === 'scheduled' && ranks.every((r) => r.state !== 'pending')) {
    return { state: 'starting', reason: 'start sent to the agent' + (ranks.length > 1 ? 's' : '') };
  }
  return undefined;
}

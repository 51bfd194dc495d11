import type { Session } from '../../common/proto/types.js';
import type { AssignmentRow, SessionEventRow, SessionRow } from '../store/types.js';

/** A stored session as the wire shows it. */
export function toSessionProto(s: SessionRow, assignments: AssignmentRow[], events?: SessionEventRow[]): Session {
  const out: Session = {
    name: s.name, user: s.user, dataset: s.dataset, state: s.state, reason: s.reason, gpus: s.gpus,
    gpusPerNode: s.gpusPerNode, entry: s.entry, args: s.args, memo: s.memo, createdMs: s.createdMs,
    startedMs: s.startedMs, endedMs: s.endedMs, epoch: s.epoch, priority: s.priority, cpus: s.cpus,
    memoryMib: s.memoryMib, workspace: s.workspace, preemptions: s.preemptions, timeLimitS: s.timeLimitS,
    idle: s.idle && s.state === 'running',
    placements: assignments.map((a) => ({ nodeId: a.nodeId, gpuIndices: a.gpuIndices, rank: a.rank })),
    events: events ?? [],
  };
  if (s.exitCode !== undefined) out.exitCode = s.exitCode;
  return out;
}

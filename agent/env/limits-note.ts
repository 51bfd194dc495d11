import type { RankContext } from '../runner/rank-context.js';
import { sessionLog } from './session-log.js';

/**
 * On a bare node, --cpus and --memory are what the scheduler reserved; they are not enforced
 * on the process unless the agent could apply them with cgroup v2 (not done yet). The session
 * log says so, once, when the session asked for either.
 */
export function noteLimits(ctx: RankContext): void {
  const { spec } = ctx;
  if (!spec.cpus && !spec.memoryMib && !spec.shmSizeMib) return;
  const asked = [spec.cpus ? `--cpus ${spec.cpus}` : '', spec.memoryMib ? `--memory ${spec.memoryMib} MiB` : '', spec.shmSizeMib ? `--shm-size ${spec.shmSizeMib} MiB` : ''].filter(Boolean).join(', ');
  sessionLog(ctx.dir, () => ctx.deps.clock.now()).line(`nsml: ${asked}: reserved by the scheduler, not enforced on this node (limits apply when the session runs in an image)`);
}

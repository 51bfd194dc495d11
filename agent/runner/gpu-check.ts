import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { ForeignHolder } from '../gpu/types.js';
import type { RankContext } from './rank-context.js';

/**
 * Hook 2b, just before start: no process that nsml did not start may hold the rank's GPUs. A
 * holder fails the start (the probe reports it in the next heartbeat, so nothing more is placed
 * on that GPU); a check that cannot run is logged and the rank starts.
 */
export async function gpuCheck(ctx: RankContext): Promise<void> {
  const { spec, deps } = ctx;
  if (!deps.checkGpus || spec.gpuIndices.length === 0) return;
  const { foreign, error } = await deps.checkGpus(spec.gpuIndices);
  if (foreign.length > 0) throw new NsmlError(ErrorCodes.GPU_BUSY, foreignMessage(foreign), { details: { foreign } });
  if (error !== undefined) {
    deps.logger.warn('cannot check the GPUs for processes nsml did not start; starting anyway', { session: spec.session, rank: spec.rank, error });
  }
}

/** `GPU 1 is held by … pid 4242 (python3, 1200 MiB)`, one clause per GPU, then what to do. */
export function foreignMessage(foreign: readonly ForeignHolder[]): string {
  const byGpu = new Map<number, ForeignHolder[]>();
  for (const f of foreign) byGpu.set(f.index, [...(byGpu.get(f.index) ?? []), f]);
  const clauses = [...byGpu].map(([index, holders]) => `GPU ${index} is held by ${holders.map(holder).join(', ')}`);
  return `${clauses.join('; ')}: ${foreign.length === 1 ? 'a process' : 'processes'} that nsml did not start; ` +
    'the node reports it and no session is placed on that GPU until it ends (stop it, or offer only other GPUs with nsml agent --gpus)';
}

function holder(f: ForeignHolder): string {
  const memory = f.usedMemoryMib ? `, ${f.usedMemoryMib} MiB` : '';
  return `pid ${f.pid} (${f.name || 'unknown'}${memory})`;
}

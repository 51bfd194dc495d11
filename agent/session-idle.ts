import type { Clock } from '../common/clock.js';
import type { GpuInfo } from '../common/proto/types.js';
import { IdleTracker } from './gpu/idle-tracker.js';
import type { RankRunner } from './runner/rank-runner.js';

type RankView = Pick<RankRunner, 'spec' | 'record'>;

/**
 * Which sessions of this node are idle, for heartbeats: the GPU readings are fed to an
 * IdleTracker with the GPU indices of each session's running ranks here.
 */
export class SessionIdleness {
  private readonly tracker: IdleTracker;

  constructor(windowMs: number, private readonly clock: Clock) {
    this.tracker = new IdleTracker({ windowMs });
  }

  /**
   * Feeds a fresh reading (undefined when the heartbeat has none: nothing is learned) and
   * returns the names of the sessions idle for the whole window, sorted.
   */
  update(gpus: readonly GpuInfo[] | undefined, ranks: readonly RankView[]): string[] {
    const allocations = gpuAllocations(ranks);
    const now = this.clock.now();
    if (gpus) this.tracker.observe(gpus, allocations, now);
    return this.tracker.idleSessions(now).map((s) => s.session).filter((s) => allocations.has(s)).sort();
  }
}

/** Session → the node-local GPU indices of its running ranks (sessions without GPUs left out). */
export function gpuAllocations(ranks: readonly RankView[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of ranks) {
    if (r.record.phase !== 'running' || r.spec.gpuIndices.length === 0) continue;
    const indices = out.get(r.spec.session) ?? [];
    out.set(r.spec.session, [...new Set([...indices, ...r.spec.gpuIndices])].sort((a, b) => a - b));
  }
  return out;
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { RankContext } from '../runner/rank-context.js';
import { rankKeyString } from '../runner/rank-spec.js';

/**
 * Part of the materialize hook: mounts the rank's pinned dataset versions read-only at
 * `<rank folder>/datasets/NAME` (all of them or none; the rank fails to start with the reason).
 */
export async function mountDatasets(ctx: RankContext): Promise<void> {
  const pins = ctx.spec.datasets ?? [];
  if (pins.length === 0) return;
  if (!ctx.deps.datasets) {
    throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the session mounts ${pins.map((p) => p.name).join(', ')} but this agent has no dataset cache; upgrade the agent`);
  }
  await ctx.deps.datasets.mount({ key: rankKeyString(ctx.spec), root: ctx.dir.root, pins, signal: ctx.signal });
}

/** Part of the cleanup hook: removes the rank's mounted datasets and releases their versions. */
export async function unmountDatasets(ctx: Pick<RankContext, 'spec' | 'dir' | 'deps'>): Promise<void> {
  await ctx.deps.datasets?.unmount(rankKeyString(ctx.spec), ctx.dir.root);
}

import { rm } from 'node:fs/promises';
import { unmountDatasets } from '../datasets/runner-hooks.js';
import { releaseEnvironment } from '../env/runner-hooks.js';
import type { RankContext } from './rank-context.js';
import { socketFolderOf, takeBackFromUser } from './session-user.js';

/**
 * Hook 5: frees what a finished rank no longer needs. The folders its user was given are taken
 * back first (session-user.ts). The workspace goes at once; the output and state files stay
 * until every log line is acknowledged, and the whole folder goes when the rank is forgotten
 * (see `forgetRank`).
 */
export async function cleanup(ctx: RankContext): Promise<void> {
  await takeBackFromUser(ctx.dir);
  await rm(ctx.dir.workspace, { recursive: true, force: true });
  await unmountDatasets(ctx); // datasets hook: removes the mounts, releases the versions
  releaseEnvironment(ctx); // agent/env: the environment may be evicted again
}

/** Removes everything of a rank that the coordinator no longer needs. */
export async function forgetRank(ctx: Pick<RankContext, 'dir'>): Promise<void> {
  await takeBackFromUser(ctx.dir);
  await rm(ctx.dir.root, { recursive: true, force: true });
  const socket = socketFolderOf(ctx.dir);
  if (socket) await rm(socket, { recursive: true, force: true });
}

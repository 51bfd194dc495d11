/** Checkpoints on the agent: the `saveCheckpoint` and `loadCheckpoint` halves of the bridge handler. */
import { dirname, join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CheckpointLoadRequest, CheckpointLoadResult, CheckpointSaveRequest, CheckpointSaveResult } from '../bridge/handler.js';
import type { BlobCache } from '../cache/blob-cache.js';
import { createCheckpointClients, type CheckpointClients } from './checkpoint-client.js';
import { loadCheckpoint } from './load.js';
import { compileCheckpointOpsOptions, type CheckpointOpsOptions, type CompiledCheckpointOpsOptions } from './options.js';
import { saveCheckpoint } from './save.js';
import { loadStaging, moveToUser, pinOwnedFiles, type CheckpointOwner } from './user-files.js';

export { createCheckpointClients, type CheckpointClients } from './checkpoint-client.js';
export type { CheckpointOpsOptions } from './options.js';

/** What a rank's bridge handler delegates its saves and loads to. */
export interface CheckpointOps {
  /** BridgeHandler.saveCheckpoint: resolves once uploaded and registered; rejects with an NsmlError. */
  save(request: CheckpointSaveRequest): Promise<CheckpointSaveResult>;
  /** BridgeHandler.loadCheckpoint: resolves with a fresh folder holding the files; rejects with an NsmlError. */
  load(request: CheckpointLoadRequest): Promise<CheckpointLoadResult>;
  /** Aborts loads in flight and closes the clients it opened itself. */
  close(): void;
}

/** Every rejection is an NsmlError, whose code and message reach the script. */
function asNsmlError(err: unknown, what: string): NsmlError {
  if (isNsmlError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new NsmlError(full ? ErrorCodes.DISK_FULL : ErrorCodes.INTERNAL, `cannot ${what}: ${errorMessage(err)}${full ? '; free some space on the node' : ''}`, { cause: err });
}

export function createCheckpointOps(options: CheckpointOpsOptions): CheckpointOps {
  const o = compileCheckpointOpsOptions(options, createCheckpointClients);
  const closing = new AbortController();
  return {
    save: (request) => saveAsOwner(o, request).catch((err: unknown) => {
      o.logger.warn('checkpoint not saved', { session: o.session, name: request.name, error: errorMessage(err) });
      throw asNsmlError(err, `save checkpoint ${request.name}`);
    }),
    load: (request) => loadAsOwner(o, request, closing.signal).catch((err: unknown) => {
      throw asNsmlError(err, `load checkpoint ${request.name}`);
    }),
    close: () => {
      closing.abort();
      if (o.ownsClients) o.clients.close();
    },
  };
}

/** A save of a session that runs as another user reads only its user's files, pinned first (user-files.ts). */
async function saveAsOwner(o: CompiledCheckpointOpsOptions, request: CheckpointSaveRequest): Promise<CheckpointSaveResult> {
  if (!o.owner) return saveCheckpoint(o, request);
  const pinned = await pinOwnedFiles(request.files, o.owner);
  try {
    return await saveCheckpoint(o, { ...request, files: pinned.files });
  } finally {
    await pinned.release();
  }
}

/** A load for a session that runs as another user is built where only root can write, then given to the user. */
async function loadAsOwner(o: CompiledCheckpointOpsOptions, request: CheckpointLoadRequest, signal: AbortSignal): Promise<CheckpointLoadResult> {
  if (!o.owner) return loadCheckpoint(o, request, signal);
  const built = await loadCheckpoint({ ...o, workDir: loadStaging(o.owner) }, request, signal);
  return { ...built, dir: await moveToUser(built.dir, o.workDir, o.owner) };
}

/** The rank a factory-made set of ops serves. */
export interface CheckpointRank {
  session: string;
  epoch: number;
  user: string;
  /** The rank's NSML_CHECKPOINT_DIR; loads go into `loaded-checkpoints/` beside it (never inside: the watcher would register them). */
  checkpointDir: string;
  /** The session's user when it is not the agent's (agent/run-as). */
  owner?: CheckpointOwner;
}

/**
 * One set of ops per rank over clients and a blob cache the agent shares, for the bridge wiring:
 * `checkpoints: checkpointOpsFactory({ clients: createCheckpointClients(address), blobCache, logger })`.
 */
export function checkpointOpsFactory(shared: { clients: CheckpointClients; blobCache: BlobCache; logger?: Logger }): (rank: CheckpointRank) => CheckpointOps {
  return (rank) => createCheckpointOps({
    clients: shared.clients, blobCache: shared.blobCache, session: rank.session, epoch: rank.epoch, user: rank.user,
    workDir: join(dirname(rank.checkpointDir), 'loaded-checkpoints'),
    ...(shared.logger ? { logger: shared.logger } : {}),
    ...(rank.owner ? { owner: rank.owner } : {}),
  });
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { DEADLINES_MS } from '../../common/grpc/options.js';
import { createLogger, type Logger } from '../../common/log.js';
import { parseSessionName, validateUser } from '../../common/names.js';
import type { BlobCache } from '../cache/blob-cache.js';
import type { CheckpointClients } from './checkpoint-client.js';
import type { CheckpointOwner } from './user-files.js';

/** What `createCheckpointOps` needs: one set per session rank. */
export interface CheckpointOpsOptions {
  /** The coordinator `HOST:PORT`; the ops open their own channel, closed by `close()`. Give this or `clients`. */
  coordinator?: string;
  /** Clients the agent already holds (`createCheckpointClients`); not closed by `close()`. */
  clients?: CheckpointClients;
  /** The agent's blob cache: loads fetch into it and hard-link from it. */
  blobCache: BlobCache;
  /** `USER/DATASET/N` of the rank. */
  session: string;
  /** The rank's placement (fencing token); a save from an older one is refused. */
  epoch: number;
  /** The session's user: the calls act as this user. */
  user: string;
  /** Loaded checkpoints go into fresh folders here (on the blob cache's file system, so links work). */
  workDir: string;
  logger?: Logger;
  /** Deadline of Register; default 30,000 (it checks every blob of the manifest). */
  registerDeadlineMs?: number;
  /** Deadline of Get and List; default 10,000. */
  quickDeadlineMs?: number;
  /** Files hashed at once; default 4. */
  parallel?: number;
  /** The session's user when it is not the agent's (agent/run-as): saves and loads go through root-only staging (user-files.ts). */
  owner?: CheckpointOwner;
}

export interface CompiledCheckpointOpsOptions {
  clients: CheckpointClients;
  ownsClients: boolean;
  cache: BlobCache;
  session: string;
  epoch: number;
  user: string;
  workDir: string;
  logger: Logger;
  registerDeadlineMs: number;
  quickDeadlineMs: number;
  parallel: number;
  owner: CheckpointOwner | undefined;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new NsmlError(ErrorCodes.CONFIG, `${what} must be a positive number; got ${v}`);
  return v;
}

/** Validates and fills defaults; `open` makes clients when only an address is given. */
export function compileCheckpointOpsOptions(o: CheckpointOpsOptions, open: (address: string) => CheckpointClients): CompiledCheckpointOpsOptions {
  if (!o.clients && !o.coordinator) throw new NsmlError(ErrorCodes.CONFIG, 'checkpoint ops need the coordinator address or its clients');
  parseSessionName(o.session);
  validateUser(o.user);
  if (!Number.isSafeInteger(o.epoch) || o.epoch < 1) throw new NsmlError(ErrorCodes.CONFIG, `epoch must be 1 or more; got ${o.epoch}`);
  if (o.workDir === '') throw new NsmlError(ErrorCodes.CONFIG, 'workDir must name a folder for loaded checkpoints');
  return {
    clients: o.clients ?? open(o.coordinator!),
    ownsClients: !o.clients,
    cache: o.blobCache,
    session: o.session,
    epoch: o.epoch,
    user: o.user,
    workDir: o.workDir,
    logger: o.logger ?? createLogger({ component: 'checkpoints' }),
    registerDeadlineMs: positive(o.registerDeadlineMs, DEADLINES_MS.submit, 'registerDeadlineMs'),
    quickDeadlineMs: positive(o.quickDeadlineMs, DEADLINES_MS.quick, 'quickDeadlineMs'),
    parallel: Math.floor(positive(o.parallel, 4, 'parallel')),
    owner: o.owner,
  };
}

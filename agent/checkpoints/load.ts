import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, NsmlError, isNsmlError } from '../../common/errors.js';
import { parseSessionName } from '../../common/names.js';
import type { Checkpoint__Output, ListCheckpointsResponse__Output } from '../../common/proto/types.js';
import type { CheckpointLoadRequest, CheckpointLoadResult } from '../bridge/handler.js';
import { placeManifest } from '../runner/materialize.js';
import { callAs } from './checkpoint-client.js';
import type { CompiledCheckpointOpsOptions } from './options.js';

/** A missing checkpoint's error lists at most this many existing names (newest first). */
export const MAX_EXISTING = 100;

async function existingNames(o: CompiledCheckpointOpsOptions, session: string): Promise<string[]> {
  const { clients } = o;
  const r = await callAs<ListCheckpointsResponse__Output>(clients.metadataFor(o.session), clients.target, o.quickDeadlineMs,
    (md, opts, cb) => clients.checkpoints.List({ session, limit: MAX_EXISTING }, md, opts, cb));
  return r.checkpoints.map((c) => c.name);
}

/** The checkpoint's record; a missing one is NSML_E_NOT_FOUND with `details: { session, existing }`. */
async function find(o: CompiledCheckpointOpsOptions, session: string, name: string): Promise<Checkpoint__Output> {
  const { clients } = o;
  try {
    return await callAs<Checkpoint__Output>(clients.metadataFor(o.session), clients.target, o.quickDeadlineMs,
      (md, opts, cb) => clients.checkpoints.Get({ session, name }, md, opts, cb));
  } catch (err) {
    if (!isNsmlError(err, ErrorCodes.NOT_FOUND)) throw err;
    const existing = await existingNames(o, session).catch(() => [] as string[]);
    throw new NsmlError(ErrorCodes.NOT_FOUND, err.message, { cause: err, details: { session, existing } });
  }
}

/**
 * Loads checkpoint `name` of this session (or of `session`): fetches the blobs the agent's cache
 * lacks and hard-links the files into a fresh folder under `workDir`, read-only.
 */
export async function loadCheckpoint(o: CompiledCheckpointOpsOptions, req: CheckpointLoadRequest, signal: AbortSignal): Promise<CheckpointLoadResult> {
  const session = req.session ?? o.session;
  parseSessionName(session);
  const started = Date.now();
  const found = await find(o, session, req.name);
  const dir = join(o.workDir, `load-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    const entries = await placeManifest(o.cache, found.manifest, dir, signal);
    o.logger.info('checkpoint loaded', { session, name: req.name, files: entries.length, dir, ms: Date.now() - started });
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

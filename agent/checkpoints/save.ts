import { uploadBytes, uploadFiles, type BlobFile } from '../../common/blobs/upload.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { sha256File } from '../../common/hashing.js';
import { encodeManifest, type ManifestEntry } from '../../common/manifest.js';
import type { Checkpoint__Output } from '../../common/proto/types.js';
import type { CheckpointFile } from '../bridge/checkpoint-files.js';
import type { CheckpointSaveRequest, CheckpointSaveResult } from '../bridge/handler.js';
import { callAs } from './checkpoint-client.js';
import type { CompiledCheckpointOpsOptions } from './options.js';

async function hashOne(file: CheckpointFile): Promise<BlobFile & { entry: ManifestEntry }> {
  try {
    const { hash, size } = await sha256File(file.local);
    return { path: file.local, hash, size, entry: { path: file.path, mode: file.mode, size, hash } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new NsmlError(ErrorCodes.FILE_CHANGED, `${file.path} of the checkpoint vanished before it was uploaded; write the checkpoint completely, then save it`, { cause: err });
    }
    throw new NsmlError(ErrorCodes.INTERNAL, `cannot read ${file.path} of the checkpoint (${file.local}): ${errorMessage(err)}`, { cause: err });
  }
}

/** Hashes the files, `parallel` at a time, keeping their order. */
async function hashAll(files: CheckpointFile[], parallel: number): Promise<Array<BlobFile & { entry: ManifestEntry }>> {
  const out = new Array<BlobFile & { entry: ManifestEntry }>(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) out[i] = await hashOne(files[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, files.length)) }, worker));
  return out;
}

/**
 * Saves a checkpoint: hashes its files, uploads only the blobs the coordinator lacks, uploads
 * the manifest, then registers SESSION/NAME. Resolves only once registered.
 */
export async function saveCheckpoint(o: CompiledCheckpointOpsOptions, req: CheckpointSaveRequest): Promise<CheckpointSaveResult> {
  const started = Date.now();
  const { clients } = o;
  const upload = { metadata: clients.metadataFor(o.session), target: clients.target };
  const hashed = await hashAll(req.files, o.parallel);
  const files = await uploadFiles(clients.blobs, hashed, upload);
  const manifest = encodeManifest(hashed.map((h) => h.entry));
  const m = await uploadBytes(clients.blobs, manifest.bytes, upload);
  const registered = await callAs<Checkpoint__Output>(clients.metadataFor(o.session), clients.target, o.registerDeadlineMs, (md, opts, cb) => clients.checkpoints.Register({
    session: o.session, epoch: o.epoch, name: req.name, manifest: manifest.hash, summary: req.summary, source: req.source,
  }, md, opts, cb));
  const result = { files: registered.files, bytes: registered.bytes, uploadedBytes: files.uploadedBytes + m.uploadedBytes };
  o.logger.info('checkpoint saved', { session: o.session, name: req.name, source: req.source, ...result, ms: Date.now() - started });
  return result;
}

import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { missingBlobs, uploadBytes } from '../../common/blobs/upload.js';
import { nsmlHome } from '../../common/config.js';
import { ErrorCodes, NsmlError, isNsmlError } from '../../common/errors.js';
import { validateDatasetName, validateUser } from '../../common/names.js';
import type { CommitDatasetResponse__Output } from '../../common/proto/types.js';
import type { CoordinatorClient } from '../client.js';
import { formatBytes, formatCount, plural } from '../format.js';
import type { CliIo } from '../io.js';
import { packWorkspace, type PackedWorkspace } from '../workspace/pack.js';
import type { DatasetClient } from './dataset-client.js';
import { createProgress } from './dataset-progress.js';
import { fileChanged, firstChanged, uploadInLanes, type PendingBlob } from './dataset-upload.js';

export interface PushRequest {
  name: string;
  dir: string;
  description: string;
  /** undefined: a new dataset is public, an existing one keeps its setting. */
  private?: boolean;
  readers: string[];
  /** Put streams at once; default 8. */
  lanes?: number;
  /** Seams for tests and benchmarks: bytes as they are read for sending, and a step before the final check. */
  observe?: { sent?(bytes: number): void; beforeCheck?(): void | Promise<void> };
}

export interface PushResult {
  ref: string;
  name: string;
  version: number;
  created: boolean;
  files: number;
  bytes: number;
  sentFiles: number;
  sentBytes: number;
  seconds: number;
}

/** A dataset takes every file of its directory: no ignore files, nothing skipped. */
export const DATASET_WALK = { ignoreFiles: [], skip: [], label: 'dataset directory' } as const;

function checkDir(dir: string): string {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new NsmlError(ErrorCodes.NOT_FOUND, `directory ${dir} does not exist; name the folder to push, e.g. \`nsml dataset push mnist ./data\``);
  }
  if (!isDir) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${dir} is not a directory; a dataset is pushed from a folder, e.g. \`nsml dataset push mnist ./data\``);
  return abs;
}

/** Adds the resume hint to a transport failure: nothing was committed, and a rerun sends only what is missing. */
function resumable(err: unknown): unknown {
  if (!isNsmlError(err) || ![ErrorCodes.COORDINATOR_UNAVAILABLE, ErrorCodes.DEADLINE_EXCEEDED, ErrorCodes.INTERNAL].includes(err.code as never)) return err;
  return new NsmlError(err.code, `${err.message}; no version was committed: run the same push again, it resumes and sends only what is missing`, { cause: err });
}

async function pending(client: CoordinatorClient, packed: PackedWorkspace): Promise<PendingBlob[]> {
  const missing = await missingBlobs(client.blobs, [...packed.sources.keys()], { metadata: client.metadata(), target: client.address });
  return [...missing].map(([hash, offset]) => {
    const src = packed.sources.get(hash)!;
    return { hash, path: src.path, size: src.size, offset: Math.min(offset, src.size) };
  });
}

/** Walks and hashes DIR, sends what the coordinator lacks, checks nothing changed, commits. */
export async function pushDataset(client: CoordinatorClient, datasets: DatasetClient, req: PushRequest, io: CliIo): Promise<PushResult> {
  const name = validateDatasetName(req.name);
  const readers = req.readers.map(validateUser);
  const root = checkDir(req.dir);
  const started = Date.now();
  const packed = await packWorkspace({ root, cacheDir: join(nsmlHome(io.env), 'cache', 'hashes'), walk: DATASET_WALK });
  if (packed.entries.length === 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${req.dir} holds no files; put the dataset's files in it (e.g. train/ and test/) and push again`);
  await client.ready();
  let sentBytes = 0;
  let todo: PendingBlob[] = [];
  try {
    todo = await pending(client, packed);
    const toSend = todo.reduce((s, b) => s + b.size - b.offset, 0);
    const plan = todo.length === 0 ? 'every file is already stored' : `sending ${plural(todo.length, 'file')}, ${formatBytes(toSend)}`;
    io.err(`${name}: ${plural(packed.entries.length, 'file')}, ${formatBytes(packed.totalBytes)}; ${plan}\n`);
    if (todo.length > 0) {
      const shown = createProgress(io, { label: `pushing ${name}`, totalBytes: toSend, totalFiles: todo.length });
      const sent = req.observe?.sent;
      const progress = sent ? { add: (b: number, f?: number) => (shown.add(b, f), sent(b)), done: () => shown.done() } : shown;
      try {
        sentBytes = await uploadInLanes(client.blobs, todo, {
          lanes: req.lanes ?? 8, progress, signal: io.signal, metadata: client.metadata(), target: client.address,
        });
      } finally {
        progress.done();
      }
    }
    await req.observe?.beforeCheck?.();
  } catch (err) {
    const change = firstChanged(packed.files);
    throw change ? fileChanged(change, err) : resumable(err);
  }
  const change = firstChanged(packed.files);
  if (change) throw fileChanged(change);
  let committed: CommitDatasetResponse__Output;
  try {
    await uploadBytes(client.blobs, packed.manifest.bytes, { metadata: client.metadata(), target: client.address });
    committed = await datasets.commit({
      name, manifest: packed.manifest.hash, description: req.description, readers, ...(req.private === undefined ? {} : { private: req.private }),
    }, io.signal);
  } catch (err) {
    throw resumable(err);
  }
  const v = committed.version!;
  return {
    ref: `${v.name}@${v.version}`, name: v.name, version: v.version, created: committed.created, files: v.files, bytes: v.bytes,
    sentFiles: todo.length, sentBytes, seconds: (Date.now() - started) / 1000,
  };
}

/** The closing line of a push, for people. */
export function describePush(r: PushResult): string {
  const sent = `sent ${plural(r.sentFiles, 'file')}, ${formatBytes(r.sentBytes)} in ${r.seconds.toFixed(1)} s`;
  if (!r.created) return `${r.ref} unchanged: the latest version already has this content (${sent})\n`;
  return `pushed ${r.ref}: ${formatCount(r.files)} files, ${formatBytes(r.bytes)} (${sent})\n`;
}

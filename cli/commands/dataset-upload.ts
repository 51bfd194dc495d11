import { readFileSync, statSync } from 'node:fs';
import { type BlobFile, type UploadOptions, fileSource, uploadSources } from '../../common/blobs/upload.js';
import type { BlobSource } from '../../common/blobs/put-stream.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { CHUNK_BYTES } from '../../common/hashing.js';
import type { BlobServiceClient } from '../../common/proto/types.js';
import type { WalkedFile } from '../workspace/walk.js';
import type { Progress } from './dataset-progress.js';

/** A file to send and where the store's partial copy ends. */
export interface PendingBlob extends BlobFile {
  offset: number;
}

/**
 * A file source that reports its bytes to `progress` as they are read, counts the file once
 * all of it went, and stops when `stop()` says so (Ctrl-C, or another lane failed).
 */
function countedSource(file: BlobFile, progress: Progress, stop: () => Error | undefined): BlobSource {
  const base = fileSource(file);
  return {
    hash: base.hash,
    size: base.size,
    read: async function* (offset) {
      for await (const chunk of offset === 0 && file.size <= CHUNK_BYTES ? [readSmall(file)] : base.read(offset)) {
        const reason = stop();
        if (reason) throw reason;
        progress.add(chunk.length);
        yield chunk;
      }
      progress.add(0, 1);
    },
  };
}

/**
 * A small file in one read: one system call from the page cache instead of a stream's open,
 * reads and close on the thread pool, which bounds the rate of many small files.
 */
function readSmall(file: BlobFile): Uint8Array {
  const data = readFileSync(file.path);
  if (data.length !== file.size) throw new NsmlError(ErrorCodes.FILE_CHANGED, `${file.path} has ${data.length} bytes, not the ${file.size} it had when hashed`);
  return data;
}

/** Splits blobs into `n` lanes of about equal bytes, biggest first. */
export function lanesOf(blobs: PendingBlob[], n: number): PendingBlob[][] {
  const lanes = Array.from({ length: Math.max(1, n) }, () => ({ bytes: 0, blobs: [] as PendingBlob[] }));
  for (const b of [...blobs].sort((x, y) => y.size - x.size)) {
    const lane = lanes.reduce((a, c) => (c.bytes < a.bytes ? c : a));
    lane.blobs.push(b);
    lane.bytes += b.size - b.offset;
  }
  return lanes.map((l) => l.blobs).filter((l) => l.length > 0);
}

/**
 * Sends the blobs on `lanes` Put streams at once (each through `uploadSources`, which asks Has
 * again and resumes partial blobs). The first failure stops the other lanes.
 */
export async function uploadInLanes(
  client: BlobServiceClient, blobs: PendingBlob[], options: UploadOptions & { lanes: number; progress: Progress; signal: AbortSignal },
): Promise<number> {
  let failure: unknown;
  const stop = () => {
    if (options.signal.aborted) return new NsmlError(ErrorCodes.INTERNAL, 'interrupted; nothing was committed: run the push again to resume');
    return failure === undefined ? undefined : new Error('another upload lane failed');
  };
  const { lanes, progress, signal: _signal, ...upload } = options;
  const results = await Promise.allSettled(lanesOf(blobs, lanes).map(async (lane) => {
    try {
      return (await uploadSources(client, lane.map((b) => countedSource(b, progress, stop)), upload)).uploadedBytes;
    } catch (err) {
      failure ??= err;
      throw err;
    }
  }));
  if (failure !== undefined) throw failure;
  return results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value : 0), 0);
}

/** The first walked file whose size, modification time or inode is not what the walk saw. */
export function firstChanged(files: WalkedFile[]): { file: WalkedFile; why: string } | undefined {
  for (const f of files) {
    let now;
    try {
      now = statSync(f.absPath, { bigint: true });
    } catch (err) {
      return { file: f, why: `it vanished (${errorMessage(err)})` };
    }
    if (Number(now.size) !== f.size) return { file: f, why: `its size went from ${f.size} to ${now.size} bytes` };
    if (now.mtimeNs !== f.mtimeNs || now.ino !== f.ino) return { file: f, why: 'it was modified' };
  }
  return undefined;
}

/** NSML_E_FILE_CHANGED for a file that changed during the push. */
export function fileChanged(change: { file: WalkedFile; why: string }, cause?: unknown): NsmlError {
  return new NsmlError(
    ErrorCodes.FILE_CHANGED,
    `${change.file.path} changed while it was being pushed: ${change.why}; nothing was committed, run the push again once nothing writes to the directory`,
    { cause, details: { path: change.file.path } },
  );
}

import type * as grpc from '@grpc/grpc-js';
import { DEADLINES_MS, deadline } from '../grpc/options.js';
import { fromServiceError } from '../grpc/status.js';
import type { BlobServiceClient } from '../proto/types.js';
import type { HasResponse__Output } from '../proto/generated/nsml/v1/HasResponse.js';
import { type BlobFile, bytesSource, fileSource } from './blob-sources.js';
import { putBlobs, targetOf, type BlobSource } from './put-stream.js';

export { type BlobFile, bytesSource, fileSource } from './blob-sources.js';

export interface UploadOptions {
  /** Sent with every call (e.g. the `nsml-user` entry). */
  metadata?: grpc.Metadata;
  /** Deadline of each Has call; default DEADLINES_MS.quick. */
  hasDeadlineMs?: number;
  /** A Put stream carries blobs up to about this many bytes, then a new one starts; default 64 MiB. */
  streamBytes?: number;
  /** Put streams at once: while one waits for the store to make its blobs durable, another sends; default 2. */
  streams?: number;
  /** Each Put stream's deadline is 30 s plus its bytes at this rate; default 1 MiB/s. */
  minBytesPerSecond?: number;
  /** Called after each Put stream with the bytes uploaded so far. */
  onProgress?: (uploadedBytes: number) => void;
  /** The coordinator's address, for error messages. */
  target?: string;
}

export interface UploadResult {
  uploadedBytes: number;
  uploadedBlobs: number;
}

const HAS_BATCH = 10_000;

/** Asks which blobs the store lacks, in batches; returns the missing ones with their resume offsets. */
export async function missingBlobs(client: BlobServiceClient, hashes: string[], options: UploadOptions = {}): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const target = targetOf(client, options.target);
  for (let i = 0; i < hashes.length; i += HAS_BATCH) {
    const batch = hashes.slice(i, i + HAS_BATCH);
    const res = await new Promise<HasResponse__Output>((resolve, reject) => {
      const md = options.metadata;
      const opts = { deadline: deadline(options.hasDeadlineMs ?? DEADLINES_MS.quick) };
      const cb = (err: grpc.ServiceError | null, r?: HasResponse__Output) => (err ? reject(fromServiceError(err, target)) : resolve(r!));
      if (md) client.Has({ hashes: batch }, md, opts, cb);
      else client.Has({ hashes: batch }, opts, cb);
    });
    for (const h of res.missing) out.set(h, res.partial[h] ?? 0);
  }
  return out;
}

type Pending = { source: BlobSource; offset: number };

/** Groups blobs into streams of up to about `limit` bytes, in order. */
function streamsOf(todo: Pending[], limit: number): Array<{ blobs: Pending[]; bytes: number }> {
  const out: Array<{ blobs: Pending[]; bytes: number }> = [];
  let cur: { blobs: Pending[]; bytes: number } = { blobs: [], bytes: 0 };
  for (const item of todo) {
    const bytes = item.source.size - item.offset;
    if (cur.blobs.length > 0 && cur.bytes + bytes > limit) {
      out.push(cur);
      cur = { blobs: [], bytes: 0 };
    }
    cur.blobs.push(item);
    cur.bytes += bytes;
  }
  if (cur.blobs.length > 0) out.push(cur);
  return out;
}

/**
 * Uploads what the store lacks of `sources`: asks Has first, sends only what is missing (from
 * where a partial upload stopped), many blobs per Put stream, `streams` streams at once. The
 * first failure stops the streams not yet started and is thrown once the others ended.
 */
export async function uploadSources(client: BlobServiceClient, sources: BlobSource[], options: UploadOptions = {}): Promise<UploadResult> {
  const unique = [...new Map(sources.map((s) => [s.hash, s])).values()];
  const missing = await missingBlobs(client, unique.map((s) => s.hash), options);
  const todo = unique.filter((s) => missing.has(s.hash)).map((source) => ({ source, offset: Math.min(missing.get(source.hash)!, source.size) }));
  const rate = options.minBytesPerSecond ?? 1024 * 1024;
  const target = targetOf(client, options.target);
  const queue = streamsOf(todo, options.streamBytes ?? 64 * 1024 * 1024);
  const result: UploadResult = { uploadedBytes: 0, uploadedBlobs: 0 };
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    for (let next = queue.shift(); next && !failure; next = queue.shift()) {
      const deadlineMs = 30_000 + Math.ceil((next.bytes / rate) * 1000);
      let sent: number;
      try {
        sent = await putBlobs(client, next.blobs, { deadlineMs, ...(options.metadata ? { metadata: options.metadata } : {}), target });
      } catch (err) {
        failure ??= { err };
        return;
      }
      result.uploadedBytes += sent;
      result.uploadedBlobs += next.blobs.length;
      options.onProgress?.(result.uploadedBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.streams ?? 2, queue.length)) }, worker));
  if (failure) throw failure.err;
  return result;
}

/**
 * Uploads the files the blob store lacks: asks Has first, sends only what is missing (from
 * where a partial upload stopped), many small blobs per Put stream, big ones in PUT_CHUNK_BYTES chunks.
 */
export function uploadFiles(client: BlobServiceClient, files: BlobFile[], options: UploadOptions = {}): Promise<UploadResult> {
  return uploadSources(client, files.map(fileSource), options);
}

/** Uploads one in-memory blob (a manifest, say) unless the store has it; returns its hash. */
export async function uploadBytes(client: BlobServiceClient, data: Uint8Array, options: UploadOptions = {}): Promise<{ hash: string; uploadedBytes: number }> {
  const source = bytesSource(data);
  const r = await uploadSources(client, [source], options);
  return { hash: source.hash, uploadedBytes: r.uploadedBytes };
}

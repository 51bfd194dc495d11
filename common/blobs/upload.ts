import type * as grpc from '@grpc/grpc-js';
import { createReadStream } from 'node:fs';
import { DEADLINES_MS, deadline } from '../grpc/options.js';
import { fromServiceError } from '../grpc/status.js';
import { CHUNK_BYTES, sha256 } from '../hashing.js';
import type { BlobServiceClient } from '../proto/types.js';
import type { HasResponse__Output } from '../proto/generated/nsml/v1/HasResponse.js';
import { putBlobs, targetOf, type BlobSource } from './put-stream.js';

/** A file to upload, named by the sha256 of its content. */
export interface BlobFile {
  path: string;
  hash: string;
  size: number;
}

export interface UploadOptions {
  /** Sent with every call (e.g. the `nsml-user` entry). */
  metadata?: grpc.Metadata;
  /** Deadline of each Has call; default DEADLINES_MS.quick. */
  hasDeadlineMs?: number;
  /** A Put stream carries blobs up to about this many bytes, then a new one starts; default 64 MiB. */
  streamBytes?: number;
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

/** Uploads what the store lacks of `sources`, several blobs per Put stream, resuming partial ones. */
export async function uploadSources(client: BlobServiceClient, sources: BlobSource[], options: UploadOptions = {}): Promise<UploadResult> {
  const unique = [...new Map(sources.map((s) => [s.hash, s])).values()];
  const missing = await missingBlobs(client, unique.map((s) => s.hash), options);
  const todo = unique.filter((s) => missing.has(s.hash)).map((source) => ({ source, offset: Math.min(missing.get(source.hash)!, source.size) }));
  const limit = options.streamBytes ?? 64 * 1024 * 1024;
  const rate = options.minBytesPerSecond ?? 1024 * 1024;
  const result: UploadResult = { uploadedBytes: 0, uploadedBlobs: 0 };
  let batch: typeof todo = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const deadlineMs = 30_000 + Math.ceil((batchBytes / rate) * 1000);
    result.uploadedBytes += await putBlobs(client, batch, { deadlineMs, ...(options.metadata ? { metadata: options.metadata } : {}), target: targetOf(client, options.target) });
    result.uploadedBlobs += batch.length;
    options.onProgress?.(result.uploadedBytes);
    batch = [];
    batchBytes = 0;
  };
  for (const item of todo) {
    if (batch.length > 0 && batchBytes + (item.source.size - item.offset) > limit) await flush();
    batch.push(item);
    batchBytes += item.source.size - item.offset;
  }
  await flush();
  return result;
}

/** A file on disk as a blob source. */
export function fileSource(file: BlobFile): BlobSource {
  return {
    hash: file.hash,
    size: file.size,
    read: (offset) => (file.size === offset ? [] : createReadStream(file.path, { start: offset, highWaterMark: CHUNK_BYTES })) as AsyncIterable<Uint8Array>,
  };
}

/** Bytes in memory as a blob source. */
export function bytesSource(data: Uint8Array, hash = sha256(data)): BlobSource {
  return {
    hash,
    size: data.length,
    read: async function* (offset) {
      for (let at = offset; at < data.length; at += CHUNK_BYTES) yield data.subarray(at, Math.min(at + CHUNK_BYTES, data.length));
    },
  };
}

/**
 * Uploads the files the blob store lacks: asks Has first, sends only what is missing (from
 * where a partial upload stopped), many small blobs per Put stream, in 1 MiB chunks.
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

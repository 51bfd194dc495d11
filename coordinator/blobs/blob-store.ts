import { createReadStream, statSync, utimesSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Allocate, readChunks } from '../../common/blobs/blob-sources.js';
import { GET_CHUNK_BYTES, WRITE_BUDGET_BYTES } from '../../common/blobs/chunk-sizes.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { BlobFiles, OPEN_FILES } from './blob-files.js';
import { type DiskSync, realDiskSync } from './disk-sync.js';
import { type BlobReceiver, FileBlobReceiver, type ReceiverLimits } from './blob-receiver.js';
import { type ChunkIn, validateHash } from './chunk-rules.js';

export { type BlobReceiver } from './blob-receiver.js';
export { type ChunkIn, MAX_BLOB_BYTES, validateHash } from './chunk-rules.js';
export { type DiskSync, realDiskSync } from './disk-sync.js';

/** Content-addressed bytes. A blob is visible only once complete, verified and fsynced. */
export interface BlobStore {
  has(hash: string): boolean;
  /**
   * Marks a stored blob as just used (its file's mtime is now), so the collector's grace period
   * starts again: a client told by Has that the blob exists skips uploading it. Never throws.
   */
  touch(hash: string): void;
  /** Bytes already received of an incomplete blob (0 when none). */
  partialSize(hash: string): number;
  /** Size of a complete blob, or undefined. */
  size(hash: string): number | undefined;
  /** Takes the chunks of one Put stream; see BlobReceiver. */
  receive(): BlobReceiver;
  /** Stores one chunk alone; `complete` is true once the blob is visible and durable (now or before). */
  writeChunk(chunk: ChunkIn): Promise<{ complete: boolean }>;
  /** The blob's bytes from `offset`, in reads of GET_CHUNK_BYTES. */
  openRead(hash: string, offset: number): Readable;
  /** The bytes of a blob of `size` bytes from `offset`, in chunks of GET_CHUNK_BYTES read into memory from `alloc`. */
  readChunks(hash: string, offset: number, size: number, alloc?: Allocate): AsyncIterable<Uint8Array>;
  readAll(hash: string): Promise<Buffer>;
}

export interface FileBlobStoreOptions {
  /** Bytes of one stream's chunks queued to the disk and not yet written; default WRITE_BUDGET_BYTES. */
  writeBudgetBytes?: number;
  /** Blobs of one stream received and not yet durable; default 256. */
  pendingBlobs?: number;
  /** Whole-chunk blobs are made durable in groups of up to this many…; default 128. */
  batchBlobs?: number;
  /** …or of this many bytes; default 32 MiB. */
  batchBytes?: number;
  /** Open files of all streams together past which a stream waits for its own blobs to be durable; default OPEN_FILES (512). */
  openFiles?: number;
  /** The fsyncs (tests hold them back to check nothing is acknowledged before them); default the real ones. */
  disk?: DiskSync;
}

export interface CompiledFileBlobStoreOptions {
  limits: ReceiverLimits;
  openFiles: number;
  disk: DiskSync;
}

export function compileFileBlobStoreOptions(o: FileBlobStoreOptions = {}): CompiledFileBlobStoreOptions {
  const positive = (name: string, v: number | undefined, fallback: number) => {
    const value = v ?? fallback;
    if (!Number.isSafeInteger(value) || value < 1) throw new NsmlError(ErrorCodes.CONFIG, `blob store option ${name} must be a positive integer; got ${v}`);
    return value;
  };
  return {
    limits: {
      writeBudgetBytes: positive('writeBudgetBytes', o.writeBudgetBytes, WRITE_BUDGET_BYTES),
      pendingBlobs: positive('pendingBlobs', o.pendingBlobs, 256),
      batch: { blobs: positive('batchBlobs', o.batchBlobs, 128), bytes: positive('batchBytes', o.batchBytes, 32 * 1024 * 1024) },
    },
    openFiles: positive('openFiles', o.openFiles, OPEN_FILES),
    disk: o.disk ?? realDiskSync,
  };
}

/** Where the collector finds blob files: `sha256/ab/HASH` and `partial/HASH` under `dir`. */
export interface SweepTarget {
  dir: string;
  finalPath(hash: string): string;
  partialPath(hash: string): string;
  /** Takes the lock a writer of `partial/HASH` holds; undefined while one writes it. */
  tryLockPartial(hash: string): (() => void) | undefined;
}

/** Blobs as files under `dir` (layout in BlobFiles). */
export class FileBlobStore implements BlobStore {
  private constructor(private readonly files: BlobFiles, private readonly limits: ReceiverLimits) {}

  static async open(dir: string, options: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    const o = compileFileBlobStoreOptions(options);
    return new FileBlobStore(await BlobFiles.open(dir, o.disk, o.openFiles), o.limits);
  }

  has(hash: string): boolean {
    return this.files.has(validateHash(hash));
  }

  touch(hash: string): void {
    const now = new Date();
    try {
      utimesSync(this.files.finalPath(validateHash(hash)), now, now);
    } catch {
      // gone meanwhile: Has answers from what it saw, and the upload sends it again after a failed commit
    }
  }

  /** The folders and locks the blob collector walks (coordinator/blobs/gc-sweep.ts). */
  sweepTarget(): SweepTarget {
    const files = this.files;
    return {
      dir: files.dir,
      finalPath: (hash) => files.finalPath(hash),
      partialPath: (hash) => files.partialPath(hash),
      tryLockPartial: (hash) => files.partialLocks.tryAcquire(hash),
    };
  }

  size(hash: string): number | undefined {
    try {
      return statSync(this.files.finalPath(validateHash(hash))).size;
    } catch {
      return undefined;
    }
  }

  partialSize(hash: string): number {
    return this.files.partialSize(validateHash(hash));
  }

  receive(): BlobReceiver {
    return new FileBlobReceiver(this.files, this.limits);
  }

  async writeChunk(chunk: ChunkIn): Promise<{ complete: boolean }> {
    const receiver = this.receive();
    try {
      await receiver.push(chunk);
    } catch (err) {
      await receiver.abort();
      throw err;
    }
    return { complete: (await receiver.finish()).includes(chunk.hash) };
  }

  openRead(hash: string, offset: number): Readable {
    return createReadStream(this.files.finalPath(validateHash(hash)), { start: offset, highWaterMark: GET_CHUNK_BYTES });
  }

  readChunks(hash: string, offset: number, size: number, alloc?: Allocate): AsyncIterable<Uint8Array> {
    return readChunks(this.files.finalPath(validateHash(hash)), offset, size, alloc, GET_CHUNK_BYTES);
  }

  async readAll(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.files.finalPath(validateHash(hash)));
    } catch (err) {
      throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `blob ${hash} is not in the store; upload it first`, { cause: err });
    }
  }
}

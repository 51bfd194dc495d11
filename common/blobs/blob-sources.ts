import { close, closeSync, open, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { sha256 } from '../hashing.js';
import { PUT_CHUNK_BYTES } from './chunk-sizes.js';
import type { BlobSource } from './put-stream.js';

const openAsync = promisify(open);
const readAsync = promisify(read);
const closeAsync = promisify(close);

/** A file to upload, named by the sha256 of its content. */
export interface BlobFile {
  path: string;
  hash: string;
  size: number;
}

/** Up to this many bytes are read on the calling thread: from the page cache that beats three thread-pool round trips. */
const SMALL_READ_BYTES = 1024 * 1024;

/** Memory to read a chunk of `bytes` into. */
export type Allocate = (bytes: number) => Uint8Array;

const fresh: Allocate = (bytes) => Buffer.allocUnsafe(bytes);

/**
 * The bytes of `path` from `offset` to `end`, in chunks of up to `chunkBytes`, each read into
 * memory from `alloc` (one read per chunk; the reads of a chunk of up to 1 MiB run on the calling
 * thread). Stops early when the file is shorter; the sender then sees the size does not match.
 */
export async function* readChunks(path: string, offset: number, end: number, alloc: Allocate = fresh, chunkBytes = PUT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  if (offset >= end) return;
  if (end - offset <= SMALL_READ_BYTES) {
    const buf = alloc(end - offset);
    const fd = openSync(path, 'r');
    try {
      yield buf.subarray(0, readSyncFully(fd, buf, offset));
    } finally {
      closeSync(fd);
    }
    return;
  }
  const fd = await openAsync(path, 'r');
  try {
    for (let at = offset; at < end;) {
      const buf = alloc(Math.min(chunkBytes, end - at));
      const got = await readFully(fd, buf, at);
      if (got > 0) yield buf.subarray(0, got);
      if (got < buf.length) return;
      at += got;
    }
  } finally {
    await closeAsync(fd);
  }
}

function readSyncFully(fd: number, buf: Uint8Array, position: number): number {
  let got = 0;
  for (let n = -1; got < buf.length && n !== 0; got += n) n = readSync(fd, buf, got, buf.length - got, position + got);
  return got;
}

async function readFully(fd: number, buf: Uint8Array, position: number): Promise<number> {
  let got = 0;
  for (let n = -1; got < buf.length && n !== 0; got += n) n = (await readAsync(fd, buf, got, buf.length - got, position + got)).bytesRead;
  return got;
}

/**
 * A file on disk as a blob source, read in PUT_CHUNK_BYTES chunks (the next read overlaps
 * sending the last chunk), into the sender's buffers when it offers them.
 */
export function fileSource(file: BlobFile): BlobSource {
  return {
    hash: file.hash,
    size: file.size,
    read: (offset, buffers) => readChunks(file.path, offset, file.size, buffers ? (n) => buffers.alloc(n) : fresh),
  };
}

/** Bytes in memory as a blob source. */
export function bytesSource(data: Uint8Array, hash = sha256(data)): BlobSource {
  return {
    hash,
    size: data.length,
    read: async function* (offset) {
      for (let at = offset; at < data.length; at += PUT_CHUNK_BYTES) yield data.subarray(at, Math.min(at + PUT_CHUNK_BYTES, data.length));
    },
  };
}

import { createHash } from 'node:crypto';
import { close, open, read } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const readAsync = promisify(read);
const closeAsync = promisify(close);

/** Blobs travel in chunks of at most this many bytes. */
export const CHUNK_BYTES = 1024 * 1024;

const HASH = /^[0-9a-f]{64}$/;

export function isBlobHash(text: string): boolean {
  return HASH.test(text);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Read buffers of sha256File, kept for reuse: hashing many files allocates no new memory per file. */
const freeBuffers: Buffer[] = [];
const HASH_READ_BYTES = 1024 * 1024;

/**
 * SHA-256 and size of a file, read in 1 MiB reads into a reused buffer: a small file costs an
 * open, two reads and a close on the thread pool, a big one no per-64-KiB stream overhead.
 */
export async function sha256File(path: string): Promise<{ hash: string; size: number }> {
  const fd = await openAsync(path, 'r');
  const buf = freeBuffers.pop() ?? Buffer.allocUnsafe(HASH_READ_BYTES);
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (let n = await readInto(fd, buf); n > 0; n = await readInto(fd, buf)) {
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { hash: hash.digest('hex'), size };
  } finally {
    if (freeBuffers.length < 16) freeBuffers.push(buf);
    await closeAsync(fd);
  }
}

async function readInto(fd: number, buf: Buffer): Promise<number> {
  return (await readAsync(fd, buf, 0, buf.length, null)).bytesRead;
}

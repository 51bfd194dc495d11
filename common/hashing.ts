import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Blobs travel in chunks of at most this many bytes. */
export const CHUNK_BYTES = 1024 * 1024;

const HASH = /^[0-9a-f]{64}$/;

export function isBlobHash(text: string): boolean {
  return HASH.test(text);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: hash.digest('hex'), size };
}

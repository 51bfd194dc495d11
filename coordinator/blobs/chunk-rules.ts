import { MAX_CHUNK_BYTES } from '../../common/blobs/chunk-sizes.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';

/** The largest blob the store accepts. */
export const MAX_BLOB_BYTES = 1024 ** 4;

/** One chunk of a Put stream. */
export interface ChunkIn {
  hash: string;
  size: number;
  offset: number;
  data: Uint8Array;
}

export function validateHash(hash: string): string {
  if (!isBlobHash(hash)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `expected a blob name of 64 lowercase hex digits (sha256); got ${JSON.stringify(hash.slice(0, 80))}`);
  }
  return hash;
}

/** Throws unless the chunk names a blob, fits the limits and stays inside its blob. */
export function checkChunk(c: ChunkIn): void {
  validateHash(c.hash);
  if (!Number.isSafeInteger(c.size) || c.size < 0 || c.size > MAX_BLOB_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `blob ${c.hash} declares size ${c.size}; the limit is ${MAX_BLOB_BYTES} bytes`);
  }
  if (c.data.length > MAX_CHUNK_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `a blob chunk holds at most ${MAX_CHUNK_BYTES} bytes; got ${c.data.length}; send smaller chunks`);
  }
  if (!Number.isSafeInteger(c.offset) || c.offset < 0 || c.offset + c.data.length > c.size) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `chunk of blob ${c.hash} at offset ${c.offset} with ${c.data.length} bytes runs past its size ${c.size}`);
  }
}

export function corrupt(hash: string, got: string): NsmlError {
  return new NsmlError(
    ErrorCodes.BLOB_CORRUPT,
    `blob ${hash}: the bytes received hash to ${got}; the upload was discarded, check the file did not change while uploading and try again`,
  );
}

/** An I/O failure of the store as an NsmlError (DISK_FULL when the disk is). */
export function storeFailure(err: unknown, hash: string): NsmlError {
  if (err instanceof NsmlError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new NsmlError(
    full ? ErrorCodes.DISK_FULL : ErrorCodes.INTERNAL,
    `the blob store could not write blob ${hash}: ${errorMessage(err)}${full ? '; free space on the coordinator, then upload again' : '; upload again'}`,
    { cause: err },
  );
}

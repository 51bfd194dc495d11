import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { CHUNK_BYTES, isBlobHash } from '../../common/hashing.js';
import { KeyedLock } from './keyed-lock.js';

const fsyncAsync = promisify(fsync);

/** The largest blob the store accepts. */
export const MAX_BLOB_BYTES = 1024 ** 4;

export interface ChunkIn {
  hash: string;
  size: number;
  offset: number;
  data: Uint8Array;
}

/** Content-addressed bytes. A blob is visible only once complete and verified. */
export interface BlobStore {
  has(hash: string): boolean;
  /** Bytes already received of an incomplete blob (0 when none). */
  partialSize(hash: string): number;
  /** Size of a complete blob, or undefined. */
  size(hash: string): number | undefined;
  /** Stores one chunk; `complete` is true once the blob became visible (now or before). */
  writeChunk(chunk: ChunkIn): Promise<{ complete: boolean }>;
  openRead(hash: string, offset: number): Readable;
  readAll(hash: string): Promise<Buffer>;
}

export function validateHash(hash: string): string {
  if (!isBlobHash(hash)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `expected a blob name of 64 lowercase hex digits (sha256); got ${JSON.stringify(hash.slice(0, 80))}`);
  }
  return hash;
}

function checkChunk(c: ChunkIn): void {
  validateHash(c.hash);
  if (!Number.isSafeInteger(c.size) || c.size < 0 || c.size > MAX_BLOB_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `blob ${c.hash} declares size ${c.size}; the limit is ${MAX_BLOB_BYTES} bytes`);
  }
  if (c.data.length > CHUNK_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `a blob chunk holds at most ${CHUNK_BYTES} bytes; got ${c.data.length}`);
  }
  if (!Number.isSafeInteger(c.offset) || c.offset < 0 || c.offset + c.data.length > c.size) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `chunk of blob ${c.hash} at offset ${c.offset} with ${c.data.length} bytes runs past its size ${c.size}`);
  }
}

/** Blobs as files under `dir`: complete ones in sha256/ab/HASH, partial ones in partial/HASH. */
export class FileBlobStore implements BlobStore {
  private readonly lock = new KeyedLock();
  /** Final-name folders known to exist. */
  private readonly dirs = new Set<string>();
  private temps = 0;

  constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FileBlobStore> {
    await mkdir(join(dir, 'sha256'), { recursive: true });
    await mkdir(join(dir, 'partial'), { recursive: true });
    // Temp files of whole-blob writes cut short by a crash.
    for (const name of await readdir(join(dir, 'partial'))) if (name.endsWith('.whole')) await rm(join(dir, 'partial', name), { force: true });
    return new FileBlobStore(dir);
  }

  private finalPath(hash: string): string {
    return join(this.dir, 'sha256', hash.slice(0, 2), hash);
  }

  private partialPath(hash: string): string {
    return join(this.dir, 'partial', hash);
  }

  has(hash: string): boolean {
    return existsSync(this.finalPath(validateHash(hash)));
  }

  size(hash: string): number | undefined {
    try {
      return statSync(this.finalPath(validateHash(hash))).size;
    } catch {
      return undefined;
    }
  }

  partialSize(hash: string): number {
    try {
      return statSync(this.partialPath(validateHash(hash))).size;
    } catch {
      return 0;
    }
  }

  writeChunk(chunk: ChunkIn): Promise<{ complete: boolean }> {
    checkChunk(chunk);
    return this.lock.run(chunk.hash, () => this.writeLocked(chunk));
  }

  private async writeLocked(c: ChunkIn): Promise<{ complete: boolean }> {
    if (this.has(c.hash)) return { complete: true };
    const path = this.partialPath(c.hash);
    const have = this.partialSize(c.hash);
    if (c.offset > have) {
      throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `blob ${c.hash}: chunk at offset ${c.offset} leaves a gap; the store holds ${have} bytes, resume from there (ask Has)`);
    }
    if (have > c.size) {
      await rm(path, { force: true });
      throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${c.hash}: ${have} bytes were received before but the blob is declared as ${c.size}; the partial upload was discarded, upload again`);
    }
    if (have === 0 && c.offset === 0 && c.data.length === c.size) return this.writeWhole(c);
    const fh = await open(path, have === 0 && c.offset === 0 ? 'w' : 'r+');
    try {
      if (c.data.length > 0) await fh.write(c.data, 0, c.data.length, c.offset);
      const now = (await fh.stat()).size;
      if (now < c.size) return { complete: false };
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.promote(c.hash, path);
    return { complete: true };
  }

  /**
   * A blob that arrives whole in one chunk (most files of a dataset): verified in memory, written
   * to a temp file with plain system calls (page cache, microseconds), fsynced on the thread
   * pool, then renamed; no partial file and no re-read.
   */
  private async writeWhole(c: ChunkIn): Promise<{ complete: true }> {
    const got = createHash('sha256').update(c.data).digest('hex');
    if (got !== c.hash) {
      throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${c.hash}: the bytes received hash to ${got}; the upload was discarded, check the file did not change while uploading and try again`);
    }
    const tmp = `${this.partialPath(c.hash)}.${process.pid}.${++this.temps}.whole`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, c.data, 0, c.data.length, 0);
      await fsyncAsync(fd);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    } finally {
      closeSync(fd);
    }
    await this.place(c.hash, tmp);
    return { complete: true };
  }

  /** Renames a verified, fsynced file to the blob's final name. */
  private async place(hash: string, file: string): Promise<void> {
    const dir = join(this.dir, 'sha256', hash.slice(0, 2));
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    renameSync(file, this.finalPath(hash));
    await syncDir(dir);
  }

  private async promote(hash: string, partial: string): Promise<void> {
    const got = await hashFile(partial);
    if (got !== hash) {
      await rm(partial, { force: true });
      throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${hash}: the bytes received hash to ${got}; the upload was discarded, check the file did not change while uploading and try again`);
    }
    await this.place(hash, partial);
  }

  openRead(hash: string, offset: number): Readable {
    return createReadStream(this.finalPath(validateHash(hash)), { start: offset, highWaterMark: CHUNK_BYTES });
  }

  async readAll(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.finalPath(validateHash(hash)));
    } catch (err) {
      throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `blob ${hash} is not in the store; upload it first`, { cause: err });
    }
  }
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fd = openSync(dir, 'r');
    try {
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is atomic.
  }
}

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, ftruncate } from 'node:fs';
import { promisify } from 'node:util';
import { PUT_CHUNK_BYTES } from '../../common/blobs/chunk-sizes.js';
import { type ByteBudget, FileWriter } from '../../common/blobs/file-writer.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { BlobFiles } from './blob-files.js';
import { type ChunkIn, corrupt, storeFailure } from './chunk-rules.js';

const ftruncateAsync = promisify(ftruncate);

/**
 * One blob arriving in several chunks: hashed as its chunks come, written to its file in the
 * background. The file is the resumable `partial/HASH` (held under the partial lock), or a
 * private temp file when another stream is writing that partial and this one starts at 0.
 */
export class IncomingBlob {
  private constructor(
    readonly hash: string,
    readonly size: number,
    private next: number,
    private readonly digest: Hash,
    private readonly writer: FileWriter,
    private readonly release: (() => void) | undefined,
  ) {}

  /** Opens the blob's file for its first chunk `c`; undefined when the store has the blob now. */
  static async start(files: BlobFiles, budget: ByteBudget, c: ChunkIn): Promise<IncomingBlob | undefined> {
    const release = c.offset === 0 ? files.partialLocks.tryAcquire(c.hash) : await files.partialLocks.acquire(c.hash);
    if (!release) {
      return new IncomingBlob(c.hash, c.size, 0, createHash('sha256'), FileWriter.open(files.tempPath(c.hash), 'w', budget, files.openFiles), undefined);
    }
    try {
      if (files.has(c.hash)) {
        release();
        return undefined;
      }
      const { writer, digest } = await resume(files, budget, c);
      return new IncomingBlob(c.hash, c.size, c.offset, digest, writer, release);
    } catch (err) {
      release();
      throw storeFailure(err, c.hash);
    }
  }

  get complete(): boolean {
    return this.next === this.size;
  }

  /** Takes the next chunk, which must start where the last one ended. */
  append(c: ChunkIn): void {
    if (c.offset !== this.next || c.size !== this.size) {
      throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `blob ${this.hash}: expected the chunk at offset ${this.next} of ${this.size} bytes, got offset ${c.offset} of ${c.size}; send each blob's chunks in order`);
    }
    if (c.data.length === 0) return;
    this.digest.update(c.data);
    try {
      this.writer.write(c.data, c.offset);
    } catch (err) {
      throw storeFailure(err, this.hash);
    }
    this.next += c.data.length;
  }

  /**
   * All bytes arrived: throws BLOB_CORRUPT at once when they do not hash to the name (the file
   * is discarded); otherwise resolves once they are written, fsynced, and placed durably.
   */
  async finish(files: BlobFiles): Promise<void> {
    const got = this.digest.digest('hex');
    if (got !== this.hash) {
      await this.drop(files);
      throw corrupt(this.hash, got);
    }
    try {
      await this.writer.sync((fd) => files.disk.file(fd));
      await this.writer.close();
      await files.place(this.hash, this.writer.path);
    } catch (err) {
      await this.drop(files);
      throw storeFailure(err, this.hash);
    } finally {
      this.release?.();
    }
  }

  /** Stops before the end: the partial file stays for a resume, unless its writes failed; a private file goes. */
  async park(files: BlobFiles): Promise<void> {
    await this.writer.close(true).catch(() => undefined);
    if (!this.release || this.writer.failed) files.discard(this.writer.path);
    this.release?.();
  }

  private async drop(files: BlobFiles): Promise<void> {
    await this.writer.close(true).catch(() => undefined);
    files.discard(this.writer.path);
    this.release?.();
  }
}

/** Opens `partial/HASH` to go on from `c.offset`: cuts what lies past it and hashes what lies before. */
async function resume(files: BlobFiles, budget: ByteBudget, c: ChunkIn): Promise<{ writer: FileWriter; digest: Hash }> {
  const path = files.partialPath(c.hash);
  const have = files.partialSize(c.hash);
  if (c.offset > have) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `blob ${c.hash}: chunk at offset ${c.offset} leaves a gap; the store holds ${have} bytes, resume from there (ask Has)`);
  }
  if (have > c.size) {
    files.discard(path);
    throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${c.hash}: ${have} bytes were received before but the blob is declared as ${c.size}; the partial upload was discarded, upload again`);
  }
  const writer = FileWriter.open(path, have === 0 ? 'w' : 'r+', budget, files.openFiles);
  const digest = createHash('sha256');
  try {
    if (have > c.offset) await ftruncateAsync(await writer.fd(), c.offset);
    if (c.offset > 0) await hashPrefix(path, c.offset, digest);
  } catch (err) {
    await writer.close(true).catch(() => undefined);
    throw err;
  }
  return { writer, digest };
}

async function hashPrefix(path: string, bytes: number, digest: Hash): Promise<void> {
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: PUT_CHUNK_BYTES })) {
    digest.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  if (read !== bytes) throw new Error(`read ${read} bytes of the partial upload, expected ${bytes}`);
}

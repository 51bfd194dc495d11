import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { isBlobHash, sha256File } from '../../common/hashing.js';
import type { BlobSource } from './blob-source.js';

/** The mode of a cached blob: read-only, so that a hard link in a workspace cannot write into the cache. */
export const CACHED_MODE = 0o444;

/**
 * Blobs by hash under `<dir>/<hh>/<hash>`, fetched once from a BlobSource, verified, and kept
 * read-only. A variant `<hash>.<mode>` holds the same bytes with other permission bits, so that
 * hard links of one blob with different modes never change each other.
 */
export class BlobCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(readonly dir: string, private readonly source: BlobSource) {}

  path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** The path of the blob in the cache, fetching it first when missing. */
  ensure(hash: string, expectedSize?: number): Promise<string> {
    if (!isBlobHash(hash)) {
      return Promise.reject(new NsmlError(ErrorCodes.WORKSPACE_INVALID, `expected a sha256 blob name; got ${JSON.stringify(hash.slice(0, 80))}`));
    }
    const running = this.inflight.get(hash);
    if (running) return running;
    const p = this.ensureOnce(hash, expectedSize).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, p);
    return p;
  }

  /** The blob with permission bits `mode` (write bits removed), for hard-linking into a workspace. */
  async withMode(hash: string, mode: number, expectedSize?: number): Promise<string> {
    const base = await this.ensure(hash, expectedSize);
    const wanted = mode & 0o555;
    if (wanted === CACHED_MODE) return base;
    const variant = `${base}.${wanted.toString(8)}`;
    const key = `${hash}.${wanted}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.makeVariant(base, variant, wanted).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async makeVariant(base: string, variant: string, mode: number): Promise<string> {
    if (await sizeOf(variant) === await sizeOf(base)) return variant;
    const tmp = `${variant}.${randomBytes(4).toString('hex')}.tmp`;
    await copyFile(base, tmp);
    await chmod(tmp, mode);
    await rename(tmp, variant);
    return variant;
  }

  private async ensureOnce(hash: string, expectedSize: number | undefined): Promise<string> {
    const final = this.path(hash);
    const have = await sizeOf(final);
    if (have !== undefined && (expectedSize === undefined || have === expectedSize)) return final;
    await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
    if (this.source.verifies) return this.fetchVerified(hash, final);
    const tmp = `${final}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await this.source.fetch(hash, tmp);
      const got = await sha256File(tmp);
      if (got.hash !== hash) {
        throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${hash} arrived with content hashing to ${got.hash}; fetch it again or re-upload it`);
      }
      await chmod(tmp, CACHED_MODE);
      await rename(tmp, final);
      return final;
    } catch (err) {
      await rm(tmp, { force: true });
      throw fetchFailure(hash, err);
    }
  }

  /** A source that verifies and places atomically writes the final name itself: no second read. */
  private async fetchVerified(hash: string, final: string): Promise<string> {
    try {
      await this.source.fetch(hash, final, { mode: CACHED_MODE });
      return final;
    } catch (err) {
      throw fetchFailure(hash, err);
    }
  }
}

function fetchFailure(hash: string, err: unknown): NsmlError {
  if (err instanceof NsmlError) return err;
  return new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `cannot fetch blob ${hash}: ${errorMessage(err)}`, { cause: err });
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

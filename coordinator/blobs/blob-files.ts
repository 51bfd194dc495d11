import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteBudget } from '../../common/blobs/file-writer.js';
import { isBlobHash } from '../../common/hashing.js';
import { DirSync } from './dir-sync.js';
import { type DiskSync, realDiskSync } from './disk-sync.js';
import { KeyedLock } from './keyed-lock.js';

/**
 * Default: past this many open files, a stream waits until its own blobs are durable (and their files
 * closed) before it takes more: many streams of small blobs stay under the process's limit.
 */
export const OPEN_FILES = 512;

const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The store's folder: complete blobs in `sha256/ab/HASH`, resumable partial uploads in
 * `partial/HASH`, private temp files in `tmp/ab/HASH.PID.N` (removed at open); and the one way
 * a verified, fsynced file becomes visible (`place`).
 */
export class BlobFiles {
  /** Held by whoever writes `partial/HASH`. */
  readonly partialLocks = new KeyedLock();
  /** Files the store's writers hold open, all streams together (see OPEN_FILES). */
  readonly openFiles: ByteBudget;
  private readonly dirSync: DirSync;
  /** Blobs renamed into place whose folder is not yet fsynced. */
  private readonly settling = new Map<string, Promise<void>>();
  private temps = 0;

  private constructor(readonly dir: string, readonly disk: DiskSync, openFiles: number) {
    this.dirSync = new DirSync((path) => disk.dir(path));
    this.openFiles = new ByteBudget(openFiles);
  }

  static async open(dir: string, disk: DiskSync = realDiskSync, openFiles = OPEN_FILES): Promise<BlobFiles> {
    await mkdir(join(dir, 'partial'), { recursive: true });
    // Every shard folder up front: no mkdir on the write path.
    await Promise.all(SHARDS.flatMap((shard) => [mkdir(join(dir, 'sha256', shard), { recursive: true }), mkdir(join(dir, 'tmp', shard), { recursive: true })]));
    const files = new BlobFiles(dir, disk, openFiles);
    await files.removeLeftovers();
    return files;
  }

  /** Temp files of writes cut short by a crash, and partial uploads of blobs that later arrived whole. */
  private async removeLeftovers(): Promise<void> {
    for (const shard of SHARDS) {
      for (const name of await readdir(join(this.dir, 'tmp', shard))) await rm(join(this.dir, 'tmp', shard, name), { force: true });
    }
    for (const name of await readdir(join(this.dir, 'partial'))) {
      // `.whole`: temp files of older releases.
      const stale = name.endsWith('.whole') || (isBlobHash(name) && this.has(name));
      if (stale) await rm(join(this.dir, 'partial', name), { force: true });
    }
  }

  finalPath(hash: string): string {
    return join(this.dir, 'sha256', hash.slice(0, 2), hash);
  }

  partialPath(hash: string): string {
    return join(this.dir, 'partial', hash);
  }

  /**
   * A new private file name for bytes of `hash`, in a temp folder of the blob's shard: files
   * being created spread over many folders instead of contending for one.
   */
  tempPath(hash: string): string {
    return join(this.dir, 'tmp', hash.slice(0, 2), `${hash}.${process.pid}.${++this.temps}`);
  }

  has(hash: string): boolean {
    return existsSync(this.finalPath(hash));
  }

  partialSize(hash: string): number {
    try {
      return statSync(this.partialPath(hash)).size;
    } catch {
      return 0;
    }
  }

  /** Resolves once the visible blob `hash` is durable (at once unless it was just placed). */
  durable(hash: string): Promise<void> {
    return this.settling.get(hash) ?? Promise.resolve();
  }

  /**
   * Renames `file` (verified and fsynced by the caller) to the blob's final name, making it
   * visible; resolves once the rename is durable too.
   */
  async place(hash: string, file: string): Promise<void> {
    await rename(file, this.finalPath(hash));
    const done = this.dirSync.sync(join(this.dir, 'sha256', hash.slice(0, 2))).finally(() => {
      if (this.settling.get(hash) === done) this.settling.delete(hash);
    });
    this.settling.set(hash, done);
    await done;
  }

  /** Removes a file of a failed or abandoned upload; never throws. */
  discard(file: string): void {
    rmSync(file, { force: true });
  }
}

import { statSync, unlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isBlobHash } from '../../common/hashing.js';
import type { SweepTarget } from './blob-store.js';

/** Blobs (or partial uploads) and their bytes. */
export interface BlobCount {
  blobs: number;
  bytes: number;
}

export interface SweepResult {
  /** Referenced by a kept manifest. */
  kept: BlobCount;
  /** Unreferenced but held by an upload in flight, or younger than the grace period. */
  spared: BlobCount;
  /** Removed (with dryRun: would be removed). */
  removed: BlobCount;
  /** Unfinished uploads removed (dryRun: would be). */
  partialsRemoved: BlobCount;
  /** Files that could not be removed (their error is counted, not thrown). */
  failures: number;
}

export interface SweepInput {
  /** Blobs of kept manifests. */
  live: ReadonlySet<string>;
  /** True while an upload in flight holds the blob (asked at the moment of removal). */
  held(hash: string): boolean;
  /** Only files last modified before this time may go. */
  cutoffMs: number;
  dryRun: boolean;
  /** Called with each file that could not be removed. */
  onFailure?(path: string, err: unknown): void;
}

/** Files decided between yields to the event loop. */
const BATCH = 256;

const zero = (): BlobCount => ({ blobs: 0, bytes: 0 });

/**
 * The sweep of the collection. Each file is decided and removed in one synchronous step
 * (held? stat, unlink), so no Has, Put or registration can slip in between the decision and the
 * removal; between batches the event loop runs.
 */
export async function sweepBlobs(target: SweepTarget, input: SweepInput): Promise<SweepResult> {
  const out: SweepResult = { kept: zero(), spared: zero(), removed: zero(), partialsRemoved: zero(), failures: 0 };
  const shards = (await readdir(join(target.dir, 'sha256'))).sort();
  for (const shard of shards) {
    const names = await readdir(join(target.dir, 'sha256', shard)).catch(() => [] as string[]);
    for (let i = 0; i < names.length; i += BATCH) {
      for (const hash of names.slice(i, i + BATCH)) {
        if (isBlobHash(hash)) decide(target.finalPath(hash), hash, input, out, 'removed');
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  for (const hash of (await readdir(join(target.dir, 'partial'))).filter(isBlobHash)) {
    const release = target.tryLockPartial(hash);
    if (!release) continue; // an upload writes it now
    try {
      decide(target.partialPath(hash), hash, input, out, 'partialsRemoved');
    } finally {
      release();
    }
  }
  return out;
}

function decide(path: string, hash: string, input: SweepInput, out: SweepResult, bucket: 'removed' | 'partialsRemoved'): void {
  let size: number;
  let mtimeMs: number;
  try {
    ({ size, mtimeMs } = statSync(path));
  } catch {
    return; // gone meanwhile
  }
  const add = (c: BlobCount) => {
    c.blobs += 1;
    c.bytes += size;
  };
  if (bucket === 'removed' && input.live.has(hash)) return add(out.kept);
  if (input.held(hash) || mtimeMs >= input.cutoffMs) return add(out.spared);
  if (!input.dryRun) {
    try {
      unlinkSync(path);
    } catch (err) {
      out.failures += 1;
      input.onFailure?.(path, err);
      return;
    }
  }
  add(out[bucket]);
}

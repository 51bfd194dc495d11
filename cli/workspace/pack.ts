import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { sha256, sha256File } from '../../common/hashing.js';
import { encodeManifest, type ManifestEntry } from '../../common/manifest.js';
import { noHashCache, openHashCache } from './hash-cache.js';
import { type WalkOptions, type WalkedFile, walkWorkspace } from './walk.js';

export interface PackOptions {
  /** The directory to pack. */
  root: string;
  /** Where hash caches live (one file per root); none when absent. */
  cacheDir?: string;
  /** How many files are hashed at once; default 8. */
  hashConcurrency?: number;
  /** Reads a file's hash; default SHA-256 of its bytes. */
  hashFile?: (path: string) => Promise<{ hash: string; size: number }>;
  /** How the tree is walked; default: as a workspace (ignore files, tool folders skipped). */
  walk?: WalkOptions;
}

/** A workspace ready to upload: its manifest, and where each blob's bytes are. */
export interface PackedWorkspace {
  root: string;
  entries: ManifestEntry[];
  /** Blob hash → a file holding those bytes. */
  sources: Map<string, { path: string; size: number }>;
  manifest: { bytes: Buffer; hash: string };
  totalBytes: number;
  /** Files whose bytes were read (not found in the hash cache). */
  hashedFiles: number;
  /** The files as walked (size, mtime, inode), to check later that none changed. */
  files: WalkedFile[];
}

/** Walks, hashes (through the cache) and builds the manifest of a directory. */
export async function packWorkspace(options: PackOptions): Promise<PackedWorkspace> {
  const files = walkWorkspace(options.root, options.walk);
  const cache = options.cacheDir ? openHashCache(cacheFileFor(options.cacheDir, options.root)) : noHashCache;
  const hashFile = options.hashFile ?? sha256File;
  const hashes = new Array<string>(files.length);
  const sizes = files.map((f) => f.size);
  const misses: number[] = [];
  files.forEach((file, i) => {
    const hit = cache.lookup(file);
    if (hit) hashes[i] = hit;
    else misses.push(i);
  });
  await forEachLimited(misses, options.hashConcurrency ?? 8, async (i) => {
    const file = files[i]!;
    const { hash, size } = await hashFile(file.absPath).catch((err: unknown) => {
      throw new NsmlError(ErrorCodes.FILE_CHANGED, `cannot read ${file.path}: ${errorMessage(err)}; it changed or vanished while being read, run again once nothing writes to it`, { cause: err });
    });
    hashes[i] = hash;
    sizes[i] = size;
    if (size === file.size) cache.remember(file, hash);
  });
  cache.save();
  return assemble(options.root, files, hashes, sizes, misses.length);
}

function assemble(root: string, files: WalkedFile[], hashes: string[], sizes: number[], hashedFiles: number): PackedWorkspace {
  const sources = new Map<string, { path: string; size: number }>();
  const entries = files.map((file, i): ManifestEntry => {
    const hash = hashes[i]!;
    const size = sizes[i]!;
    if (!sources.has(hash)) sources.set(hash, { path: file.absPath, size });
    return { path: file.path, mode: file.mode, size, hash };
  });
  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  return { root, entries, sources, manifest: encodeManifest(entries), totalBytes, hashedFiles, files };
}

/** Fails with NSML_E_ENTRY_NOT_FOUND unless `entry` is a packed file. */
export function checkEntry(packed: PackedWorkspace, entry: string): void {
  const normalized = entry.replace(/^\.\//, '');
  if (packed.entries.some((e) => e.path === normalized)) return;
  const abs = join(packed.root, normalized);
  const why = existsSync(abs) && statSync(abs).isFile()
    ? 'it exists but is excluded by .gitignore or .nsmlignore; re-include it with a `!` rule'
    : 'there is no such file; pass the script to run with -e PATH (relative to this directory)';
  throw new NsmlError(ErrorCodes.ENTRY_NOT_FOUND, `entry ${JSON.stringify(entry)} is not in the workspace ${packed.root}: ${why}`, {
    details: { entry },
  });
}

/** The hash cache file of one workspace root. */
export function cacheFileFor(cacheDir: string, root: string): string {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    // The walk reports a missing root.
  }
  return join(cacheDir, `${sha256(real).slice(0, 24)}.json`);
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

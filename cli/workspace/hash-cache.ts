import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isBlobHash } from '../../common/hashing.js';
import type { WalkedFile } from './walk.js';

/**
 * Remembers file hashes by path, size, mtime and inode, so that an unchanged tree re-packs
 * without reading its files. One JSON file per workspace root.
 */
export interface HashCache {
  lookup(file: WalkedFile): string | undefined;
  remember(file: WalkedFile, hash: string): void;
  /** Writes what this pack saw (entries for files that are gone are dropped). */
  save(): void;
}

/**
 * Files changed this recently are not remembered: a second write within the file system's
 * timestamp granularity would keep the same mtime and size and go unnoticed.
 */
export const RACY_WINDOW_MS = 1_000;

type Row = [size: number, mtimeNs: string, ino: string, hash: string];

interface CacheFile {
  version: 1;
  entries: Record<string, Row>;
}

export function openHashCache(path: string, now: () => number = Date.now): HashCache {
  const previous = readCache(path);
  const seen: Record<string, Row> = {};
  return {
    lookup(file) {
      const row = previous[file.path];
      if (!Array.isArray(row) || row[0] !== file.size || row[1] !== String(file.mtimeNs) || row[2] !== String(file.ino) || !isBlobHash(String(row[3]))) {
        return undefined;
      }
      seen[file.path] = row;
      return row[3];
    },
    remember(file, hash) {
      const mtimeMs = Number(file.mtimeNs / 1_000_000n);
      if (now() - mtimeMs < RACY_WINDOW_MS) return;
      seen[file.path] = [file.size, String(file.mtimeNs), String(file.ino), hash];
    },
    save() {
      try {
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify({ version: 1, entries: seen } satisfies CacheFile));
        renameSync(tmp, path);
      } catch {
        // A cache that cannot be written only costs time on the next pack.
      }
    },
  };
}

/** A cache that remembers nothing, for packing without a home directory. */
export const noHashCache: HashCache = { lookup: () => undefined, remember() {}, save() {} };

function readCache(path: string): Record<string, Row> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
    return parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object' ? parsed.entries : {};
  } catch {
    return {};
  }
}

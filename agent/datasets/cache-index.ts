import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../runner/session-dir.js';

/** One complete dataset version in the node's cache. */
export interface CachedVersion {
  name: string;
  version: number;
  manifest: string;
  /** Bytes of its distinct blobs. */
  bytes: number;
  lastUsedMs: number;
}

/** Versions mounted by one rank, so that they are never evicted while it runs. */
export interface VersionUse {
  /** The rank's folder; a use whose folder is gone is stale. */
  root: string;
  refs: string[];
}

interface IndexFile {
  version: 1;
  versions: Record<string, CachedVersion>;
  uses: Record<string, VersionUse>;
}

/**
 * What the dataset cache holds and who uses it, kept in `<dir>/index.json` (temp file and
 * rename, so a killed agent leaves the old or the new index).
 */
export class CacheIndex {
  readonly versions = new Map<string, CachedVersion>();
  readonly uses = new Map<string, VersionUse>();

  private constructor(private readonly file: string) {}

  /** Reads the index; uses whose rank folder is gone are dropped. */
  static open(dir: string): CacheIndex {
    mkdirSync(dir, { recursive: true });
    const index = new CacheIndex(join(dir, 'index.json'));
    const saved = readJsonFile<IndexFile>(index.file);
    if (saved?.version === 1) {
      for (const [ref, v] of Object.entries(saved.versions ?? {})) index.versions.set(ref, v);
      for (const [key, u] of Object.entries(saved.uses ?? {})) if (existsSync(u.root)) index.uses.set(key, u);
    }
    return index;
  }

  /** Versions some rank uses now. */
  inUse(): Set<string> {
    const out = new Set<string>();
    for (const u of this.uses.values()) for (const r of u.refs) out.add(r);
    return out;
  }

  totalBytes(): number {
    let n = 0;
    for (const v of this.versions.values()) n += v.bytes;
    return n;
  }

  save(): void {
    const out: IndexFile = { version: 1, versions: Object.fromEntries(this.versions), uses: Object.fromEntries(this.uses) };
    writeJsonAtomic(this.file, out);
  }
}

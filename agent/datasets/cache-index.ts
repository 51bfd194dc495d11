import { LruIndex } from '../cache/lru-index.js';

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

export type CacheIndex = LruIndex<CachedVersion, VersionUse>;

/** What the dataset cache holds and who uses it, in `<dir>/index.json` (`versions`, `uses`). */
export function openCacheIndex(dir: string): CacheIndex {
  return LruIndex.open<CachedVersion, VersionUse>(dir, 'versions', (u) => u.refs);
}

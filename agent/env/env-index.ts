import { LruIndex } from '../cache/lru-index.js';

/** One built environment in the node's cache. */
export interface CachedEnv {
  /** Its folder under `<cache>/builds/`; `<cache>/<key>` links to it. */
  build: string;
  bytes: number;
  lastUsedMs: number;
}

/** The environment one rank runs with, so that it is never evicted while the rank runs. */
export interface EnvUse {
  /** The rank's folder; a use whose folder is gone is stale. */
  root: string;
  key: string;
}

export type EnvIndex = LruIndex<CachedEnv, EnvUse>;

/** What the environment cache holds and who uses it, in `<dir>/index.json` (`envs`, `uses`). */
export function openEnvIndex(dir: string): EnvIndex {
  return LruIndex.open<CachedEnv, EnvUse>(dir, 'envs', (u) => [u.key]);
}

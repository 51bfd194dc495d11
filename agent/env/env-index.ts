import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../runner/session-dir.js';

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

interface IndexFile {
  version: 1;
  envs: Record<string, CachedEnv>;
  uses: Record<string, EnvUse>;
}

/** What the environment cache holds and who uses it, in `<dir>/index.json` (temp file and rename). */
export class EnvIndex {
  readonly envs = new Map<string, CachedEnv>();
  readonly uses = new Map<string, EnvUse>();

  private constructor(private readonly file: string) {}

  /** Reads the index; uses whose rank folder is gone are dropped. */
  static open(dir: string): EnvIndex {
    mkdirSync(dir, { recursive: true });
    const index = new EnvIndex(join(dir, 'index.json'));
    const saved = readJsonFile<IndexFile>(index.file);
    if (saved?.version === 1) {
      for (const [k, v] of Object.entries(saved.envs ?? {})) index.envs.set(k, v);
      for (const [k, u] of Object.entries(saved.uses ?? {})) if (existsSync(u.root)) index.uses.set(k, u);
    }
    return index;
  }

  inUse(): Set<string> {
    return new Set([...this.uses.values()].map((u) => u.key));
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.envs.values()) n += e.bytes;
    return n;
  }

  save(): void {
    writeJsonAtomic(this.file, { version: 1, envs: Object.fromEntries(this.envs), uses: Object.fromEntries(this.uses) } satisfies IndexFile);
  }
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../runner/session-dir.js';

/** An entry of a node cache evicted least recently used first within a byte budget. */
export interface SizedEntry {
  bytes: number;
  lastUsedMs: number;
}

/** What one rank holds, so that it is never evicted while the rank runs. */
export interface RankUse {
  /** The rank's folder; a use whose folder is gone is stale. */
  root: string;
}

/**
 * What a node cache (dataset versions, session environments) holds and which ranks use what,
 * kept in `<dir>/index.json` (temp file and rename, so a killed agent leaves the old or the new
 * index). `field` names the entries in the file; `keysOf` says which entries a use holds.
 */
export class LruIndex<E extends SizedEntry, U extends RankUse> {
  readonly entries = new Map<string, E>();
  readonly uses = new Map<string, U>();

  private constructor(
    private readonly file: string,
    private readonly field: string,
    private readonly keysOf: (use: U) => Iterable<string>,
  ) {}

  /** Reads the index; uses whose rank folder is gone are dropped. */
  static open<E extends SizedEntry, U extends RankUse>(dir: string, field: string, keysOf: (use: U) => Iterable<string>): LruIndex<E, U> {
    mkdirSync(dir, { recursive: true });
    const index = new LruIndex<E, U>(join(dir, 'index.json'), field, keysOf);
    const saved = readJsonFile<Record<string, unknown>>(index.file);
    if (saved?.version === 1) {
      for (const [k, v] of Object.entries((saved[field] ?? {}) as Record<string, E>)) index.entries.set(k, v);
      for (const [k, u] of Object.entries((saved.uses ?? {}) as Record<string, U>)) if (existsSync(u.root)) index.uses.set(k, u);
    }
    return index;
  }

  /** Keys some rank uses now. */
  inUse(): Set<string> {
    const out = new Set<string>();
    for (const u of this.uses.values()) for (const k of this.keysOf(u)) out.add(k);
    return out;
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  save(): void {
    writeJsonAtomic(this.file, { version: 1, [this.field]: Object.fromEntries(this.entries), uses: Object.fromEntries(this.uses) });
  }
}

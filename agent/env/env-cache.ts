import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { lstat, readdir, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../common/clock.js';
import { silentLogger, type Logger } from '../../common/log.js';
import { type EnvIndex, openEnvIndex } from './env-index.js';
import { canChangeOwners, reclaimTree } from '../run-as/ownership.js';

export interface EnvCacheOptions {
  /** e.g. `<agent data>/envs`. */
  dir: string;
  /** Past this many bytes of built environments, the least recently used one not in use is evicted. */
  budgetBytes: number;
  clock?: Clock;
  logger?: Logger;
}

/** One rank's request for an environment. */
export interface EnvRequest {
  /** The rank (its session, epoch and rank): while it holds the environment, it is not evicted. */
  useKey: string;
  /** The rank's folder; a use whose folder is gone is dropped at the next start. */
  root: string;
  /** envKey(): what the environment is built from. */
  key: string;
  /** Builds a virtual environment at `dir` (a fresh folder); called at most once per key at a time. */
  build(dir: string): Promise<void>;
}

export interface EnvGrant {
  /** `<dir>/<key>`: the environment's prefix (VIRTUAL_ENV). */
  path: string;
  /** 'cached': it was there; 'built': this request built it; 'shared': another rank's build was awaited. */
  how: 'cached' | 'built' | 'shared';
}

const MIB = 1024 * 1024;

async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await treeBytes(p);
    else n += (await lstat(p)).size;
  }
  return n;
}

/**
 * The virtual environments of a node, one per key. Each is built in a folder of its own under
 * `builds/` and published by renaming a link `<dir>/<key>` onto it, so nothing half-built is
 * ever used; ranks that want a key being built wait for that one build. Evicted least recently
 * used first past the byte budget, never while a rank uses it.
 */
export class EnvCache {
  private readonly index: EnvIndex;
  private readonly building = new Map<string, Promise<void>>();
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(private readonly o: EnvCacheOptions) {
    mkdirSync(join(o.dir, 'builds'), { recursive: true, mode: 0o755 });
    // Whatever the umask: sessions' accounts pass through to their environments (never list the cache).
    chmodSync(o.dir, 0o711);
    chmodSync(join(o.dir, 'builds'), 0o711);
    this.index = openEnvIndex(o.dir);
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    this.sweep();
  }

  static open(options: EnvCacheOptions): EnvCache {
    return new EnvCache(options);
  }

  status(): { envs: number; bytes: number; budgetBytes: number; inUse: string[] } {
    return { envs: this.index.entries.size, bytes: this.index.totalBytes(), budgetBytes: this.o.budgetBytes, inUse: [...this.index.inUse()].sort() };
  }

  /** Keys of the environments held, sorted. */
  held(): string[] {
    return [...this.index.entries.keys()].sort();
  }

  /** The environment for `r.key`, built if needed; held for `r.useKey` until `release`. */
  async acquire(r: EnvRequest): Promise<EnvGrant> {
    this.index.uses.set(r.useKey, { root: r.root, key: r.key });
    this.index.save();
    try {
      const path = join(this.o.dir, r.key);
      const cached = this.index.entries.get(r.key);
      if (cached && existsSync(join(this.o.dir, cached.build, 'bin'))) {
        cached.lastUsedMs = this.clock.now();
        this.index.save();
        return { path, how: 'cached' };
      }
      const running = this.building.get(r.key);
      if (running) {
        await running;
        return { path, how: 'shared' };
      }
      const p = this.buildOnce(r).finally(() => this.building.delete(r.key));
      this.building.set(r.key, p);
      await p;
      return { path, how: 'built' };
    } catch (err) {
      this.release(r.useKey);
      throw err;
    }
  }

  /** The rank no longer runs with its environment. */
  release(useKey: string): void {
    if (this.index.uses.delete(useKey)) this.index.save();
  }

  private async buildOnce(r: EnvRequest): Promise<void> {
    const build = join('builds', `${r.key}-${randomBytes(4).toString('hex')}`);
    const dir = join(this.o.dir, build);
    try {
      await r.build(dir);
    } catch (err) {
      await removeTree(dir);
      throw err;
    }
    const bytes = await treeBytes(dir);
    const tmpLink = join(this.o.dir, `.${r.key}.${randomBytes(4).toString('hex')}`);
    await symlink(build, tmpLink);
    await rename(tmpLink, join(this.o.dir, r.key)); // the commit point: the key now names a complete build
    const old = this.index.entries.get(r.key);
    this.index.entries.set(r.key, { build, bytes, lastUsedMs: this.clock.now() });
    this.index.save();
    if (old && old.build !== build) await removeTree(join(this.o.dir, old.build));
    await this.makeRoom(r.key);
  }

  /** Evicts least recently used environments not in use (nor `keep`) until the total fits the budget. */
  private async makeRoom(keep: string): Promise<void> {
    const busy = this.index.inUse();
    const candidates = [...this.index.entries.entries()].filter(([k]) => k !== keep && !busy.has(k)).sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs);
    let total = this.index.totalBytes();
    for (const [key, e] of candidates) {
      if (total <= this.o.budgetBytes) break;
      this.index.entries.delete(key);
      this.index.save();
      await rm(join(this.o.dir, key), { force: true });
      await removeTree(join(this.o.dir, e.build));
      total -= e.bytes;
      this.logger.info('evicted a cached environment', { env: key, mib: Math.round(e.bytes / MIB) });
    }
  }

  /** At open: builds no index entry names (a killed agent's half-built ones) and stray links go. */
  private sweep(): void {
    const named = new Set([...this.index.entries.values()].map((e) => e.build));
    for (const [key, e] of this.index.entries) if (!existsSync(join(this.o.dir, e.build))) this.index.entries.delete(key);
    for (const name of readdirSync(join(this.o.dir, 'builds'))) {
      if (!named.has(join('builds', name))) void removeTree(join(this.o.dir, 'builds', name));
    }
    for (const name of readdirSync(this.o.dir)) {
      if (name.startsWith('.') && name !== '.') void rm(join(this.o.dir, name), { force: true });
    }
    this.index.save();
  }
}

/**
 * Removes a build. One built for a session's Unix user (agent/run-as) belongs to that user: it
 * is taken back top-down first (reclaimTree), so that the user cannot swap a folder for a link
 * while root removes it.
 */
async function removeTree(path: string): Promise<void> {
  if (canChangeOwners()) await reclaimTree(path).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

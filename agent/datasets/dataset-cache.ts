import { statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { systemClock, type Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/log.js';
import { decodeManifest, type ManifestEntry } from '../../common/manifest.js';
import { CACHED_MODE, type BlobCache } from '../cache/blob-cache.js';
import { type CacheIndex, type CachedVersion, openCacheIndex } from './cache-index.js';
import { datasetsDir, mountPath } from './dataset-env.js';
import { linkTree, removeTree, type TreeSources } from './link-tree.js';
import { pinRef, type DatasetPinSpec } from './pins.js';

export interface DatasetCacheOptions {
  /** Where the index lives, e.g. `<agent data>/datasets`. */
  dir: string;
  /** The agent's blob cache: dataset files are its blobs, hard-linked into each rank. */
  blobs: BlobCache;
  /** Past this many bytes of cached versions, the least recently used one not in use is evicted. */
  budgetBytes: number;
  /** Blobs fetched at once; default 8. */
  parallel?: number;
  clock?: Clock;
  logger?: Logger;
}

/** One rank's datasets to mount (the runner's RankContext provides these). */
export interface MountTarget {
  /** Identifies the rank (its session, epoch and rank). */
  key: string;
  /** The rank's folder; datasets go to `<root>/datasets/NAME`. */
  root: string;
  pins: DatasetPinSpec[];
  signal: AbortSignal;
}

const MIB = 1024 * 1024;

function isDiskFull(err: unknown): boolean {
  for (let e = err as (Error & { code?: string; cause?: unknown }) | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || /\bENOSPC\b|no space left/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A file's size, or undefined when it is missing. A cached blob of the wrong size was written to: it is fetched again. */
function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The datasets of a node: versions whose blobs are all in the blob cache, mounted read-only into
 * ranks with hard links, evicted least recently used first when past the budget, never while a
 * rank uses them. Reports what it holds for the scheduler's locality.
 */
export class DatasetCache {
  private readonly index: CacheIndex;
  private readonly preparing = new Map<string, Promise<ManifestEntry[]>>();
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(private readonly o: DatasetCacheOptions) {
    this.index = openCacheIndex(o.dir);
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
  }

  static open(options: DatasetCacheOptions): DatasetCache {
    return new DatasetCache(options);
  }

  /** NAME@V of every complete version held, sorted. */
  held(): string[] {
    return [...this.index.entries.keys()].sort();
  }

  status(): { versions: number; bytes: number; budgetBytes: number; inUse: string[] } {
    return { versions: this.index.entries.size, bytes: this.index.totalBytes(), budgetBytes: this.o.budgetBytes, inUse: [...this.index.inUse()].sort() };
  }

  /** Mounts each pinned version at `<root>/datasets/NAME`, read-only; all of them, or none. */
  async mount(t: MountTarget): Promise<void> {
    if (t.pins.length === 0) return;
    this.index.uses.set(t.key, { root: t.root, refs: t.pins.map(pinRef) });
    this.index.save();
    try {
      await mkdir(datasetsDir(t.root), { recursive: true });
      for (const pin of t.pins) {
        const entries = await this.prepare(pin, t.signal);
        await linkTree(entries, mountPath(t.root, pin.name), this.sources(), t.signal);
      }
      this.index.save();
    } catch (err) {
      await this.unmount(t.key, t.root);
      throw this.explain(err, t.pins);
    }
  }

  /** Removes a rank's mounted datasets and releases its versions. */
  async unmount(key: string, root: string): Promise<void> {
    await removeTree(datasetsDir(root));
    if (this.index.uses.delete(key)) this.index.save();
  }

  private sources(): TreeSources {
    const { blobs } = this.o;
    return {
      pathOf: (e) => ((e.mode & 0o555) === CACHED_MODE ? blobs.path(e.hash) : `${blobs.path(e.hash)}.${(e.mode & 0o555).toString(8)}`),
      repair: (e) => blobs.withMode(e.hash, e.mode, e.size),
    };
  }

  /** Makes sure every blob of the version is cached (evicting to fit); returns its entries. */
  private prepare(pin: DatasetPinSpec, signal: AbortSignal): Promise<ManifestEntry[]> {
    const ref = pinRef(pin);
    const running = this.preparing.get(ref);
    if (running) return running;
    const p = this.prepareOnce(pin, ref, signal).finally(() => this.preparing.delete(ref));
    this.preparing.set(ref, p);
    return p;
  }

  private async prepareOnce(pin: DatasetPinSpec, ref: string, signal: AbortSignal): Promise<ManifestEntry[]> {
    const { entries } = decodeManifest(await readFile(await this.o.blobs.ensure(pin.manifest)));
    const cached = this.index.entries.get(ref);
    const sizes = new Map(entries.map((e) => [e.hash, e.size]));
    const missing = [...sizes].filter(([h, size]) => sizeOf(this.o.blobs.path(h)) !== size);
    if (cached?.manifest === pin.manifest && missing.length === 0) {
      cached.lastUsedMs = this.clock.now();
      await this.ensureVariants(entries);
      return entries;
    }
    await this.makeRoom(missing.reduce((s, [, n]) => s + n, 0), ref);
    const fetchAll = () => forEachLimited(missing, this.o.parallel ?? 8, async ([hash, size]) => {
      if (signal.aborted) throw new NsmlError(ErrorCodes.SPAWN_FAILED, 'stopped while the dataset was being fetched');
      await this.o.blobs.ensure(hash, size);
    });
    try {
      await fetchAll();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.logger.warn('disk full while fetching a dataset; evicting every unused cached version and trying again', { dataset: ref });
      await this.makeRoom(Infinity, ref);
      await fetchAll();
    }
    await this.ensureVariants(entries);
    const bytes = [...sizes.values()].reduce((s, n) => s + n, 0);
    this.index.entries.set(ref, { name: pin.name, version: pin.version, manifest: pin.manifest, bytes, lastUsedMs: this.clock.now() });
    this.index.save();
    return entries;
  }

  /** Files with other permission bits (executables) are linked from a per-mode copy of the blob. */
  private async ensureVariants(entries: ManifestEntry[]): Promise<void> {
    const odd = entries.filter((e) => (e.mode & 0o555) !== CACHED_MODE);
    await forEachLimited(odd, this.o.parallel ?? 8, async (e) => void (await this.o.blobs.withMode(e.hash, e.mode, e.size)));
  }

  /** Evicts least recently used versions not in use (nor `keep`) until `need` more bytes fit the budget. */
  private async makeRoom(need: number, keep: string): Promise<void> {
    const busy = this.index.inUse();
    const candidates = [...this.index.entries.entries()]
      .filter(([ref]) => ref !== keep && !busy.has(ref))
      .sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs);
    let total = this.index.totalBytes();
    for (const [ref, v] of candidates) {
      if (total + need <= this.o.budgetBytes) break;
      await this.evict(ref, v);
      total -= v.bytes;
    }
  }

  private async evict(ref: string, v: CachedVersion): Promise<void> {
    this.index.entries.delete(ref);
    const entries = await this.entriesOf(v);
    const kept = new Set<string>();
    for (const other of this.index.entries.values()) for (const e of await this.entriesOf(other)) kept.add(e.hash);
    for (const e of entries) {
      if (kept.has(e.hash)) continue;
      const base = this.o.blobs.path(e.hash);
      await rm(base, { force: true });
      await rm(`${base}.${(e.mode & 0o555).toString(8)}`, { force: true });
    }
    if (!kept.has(v.manifest)) await rm(this.o.blobs.path(v.manifest), { force: true });
    this.index.save();
    this.logger.info('evicted a cached dataset version', { dataset: ref, mib: Math.round(v.bytes / MIB) });
  }

  private async entriesOf(v: CachedVersion): Promise<ManifestEntry[]> {
    try {
      return decodeManifest(await readFile(this.o.blobs.path(v.manifest))).entries;
    } catch {
      return [];
    }
  }

  private explain(err: unknown, pins: DatasetPinSpec[]): unknown {
    const refs = pins.map(pinRef).join(', ');
    if (isDiskFull(err)) {
      return new NsmlError(
        ErrorCodes.DISK_FULL,
        `no space left on this node while materializing dataset ${refs} (cache: ${Math.round(this.index.totalBytes() / MIB)} MiB in use by running sessions or kept); free disk space on the node, then run the session again`,
        { cause: err },
      );
    }
    if (err instanceof NsmlError) return new NsmlError(err.code, `cannot materialize dataset ${refs}: ${err.message}`, { cause: err });
    return new NsmlError(ErrorCodes.SPAWN_FAILED, `cannot materialize dataset ${refs}: ${errorMessage(err)}`, { cause: err });
  }
}

import type { Clock } from '../../common/clock.js';

/** What a running collection sees of blobs that became live after it read the state. */
export interface CollectionWatch {
  /** Hashes leased or registered since the collection began. */
  readonly seen: ReadonlySet<string>;
  end(): void;
}

/**
 * The blobs of uploads in flight, which the collector must never take.
 *
 * An upload goes Has → Put → register a manifest. Has leases every hash it is asked about
 * (present or missing) and Put every blob it stores; registering a manifest (a dataset
 * version, a checkpoint) settles the leases of the blobs it names: from then on the manifest
 * keeps them. A lease that is never settled (a client that gave up; a workspace, which its
 * session keeps) lapses `leaseMs` after the last Has or Put of that blob. While a collection
 * runs, every hash leased or registered is also noted for it, so a manifest registered after
 * the collection read the state keeps its blobs.
 *
 * Leases are per blob, not per upload (the protocol names no upload): when two uploads of the
 * same blob overlap and the first registers, the second is no longer covered. Should the
 * first's manifest then be removed and the blob collected, the second's registration finds it
 * missing and fails with a message to push again; nothing is ever registered over a missing blob.
 */
export class UploadGuard {
  /** Hash → when its lease lapses. */
  private readonly leases = new Map<string, number>();
  private readonly watches = new Set<Set<string>>();

  constructor(private readonly clock: Clock, private readonly leaseMs: number) {}

  /** An upload asked about these blobs (Has). */
  lease(hashes: Iterable<string>): void {
    const expiresMs = this.clock.now() + this.leaseMs;
    for (const hash of hashes) {
      this.leases.set(hash, expiresMs);
      this.note(hash);
    }
  }

  /** A Put stored these blobs. */
  stored(hashes: Iterable<string>): void {
    this.lease(hashes);
  }

  /** A manifest over these blobs was committed: they are live from now, and their leases are settled. */
  registered(hashes: Iterable<string>): void {
    for (const hash of hashes) {
      this.note(hash);
      this.leases.delete(hash);
    }
  }

  /** True while an upload holds the blob, or a running collection saw it become live. */
  held(hash: string, watch?: CollectionWatch): boolean {
    const expiresMs = this.leases.get(hash);
    return (expiresMs !== undefined && expiresMs > this.clock.now()) || (watch?.seen.has(hash) ?? false);
  }

  /** Starts noting what becomes live for one collection; `end()` stops it. */
  watch(): CollectionWatch {
    const seen = new Set<string>();
    this.watches.add(seen);
    return { seen, end: () => this.watches.delete(seen) };
  }

  /** Forgets lapsed leases; returns how many are held. */
  prune(): number {
    const now = this.clock.now();
    for (const [hash, expiresMs] of this.leases) if (expiresMs <= now) this.leases.delete(hash);
    return this.leases.size;
  }

  private note(hash: string): void {
    for (const seen of this.watches) seen.add(hash);
  }
}

import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { BlobRoot } from '../store/blob-roots.js';
import type { SweepTarget } from './blob-store.js';
import { type ManifestReader, markLive } from './gc-mark.js';
import { type SweepResult, sweepBlobs } from './gc-sweep.js';
import type { UploadGuard } from './upload-guard.js';

/** What one collection did (or, dry, would do). */
export interface GcReport extends SweepResult {
  dryRun: boolean;
  startedMs: number;
  tookMs: number;
  /** Distinct manifests the state keeps. */
  manifests: number;
  /** Uploads in flight that held blobs when the collection began. */
  leases: number;
}

export type CollectorState = 'idle' | 'collecting' | 'closed';

export interface CollectorStatus {
  state: CollectorState;
  runs: number;
  /** Collections that failed (scheduled or asked for); each is logged. */
  failures: number;
  lastReport: GcReport | undefined;
  lastError: string;
}

export interface BlobCollectorDeps {
  roots: { blobRoots(): BlobRoot[] };
  blobs: ManifestReader;
  target: SweepTarget;
  guard: UploadGuard;
  clock: Clock;
  logger: Logger;
  /** Unreferenced blobs younger than this (by their file's mtime) stay. */
  graceMs: number;
  /** Period of the scheduled collection; 0: none. */
  intervalMs: number;
}

/**
 * Mark and sweep of unreferenced blobs: mark every blob a kept manifest names (coordinator/
 * store/blob-roots.ts), then remove the other blob files unless an upload in flight holds them
 * (UploadGuard) or they are younger than the grace period. One collection at a time; a
 * scheduled one never throws: failures are counted and logged.
 */
export class BlobCollector {
  private running: Promise<GcReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly st: CollectorStatus = { state: 'idle', runs: 0, failures: 0, lastReport: undefined, lastError: '' };

  constructor(private readonly deps: BlobCollectorDeps) {}

  get status(): CollectorStatus {
    return { ...this.st };
  }

  /** Starts the schedule (nothing when intervalMs is 0). */
  start(): void {
    if (this.deps.intervalMs > 0 && this.st.state !== 'closed') this.timer = setTimeout(() => this.tick(), this.deps.intervalMs);
  }

  close(): void {
    this.st.state = 'closed';
    clearTimeout(this.timer);
  }

  /** One collection; waits for a running one first. Rejects with its error (also counted). */
  async collect(options: { dryRun: boolean }): Promise<GcReport> {
    while (this.running) await this.running.catch(() => undefined);
    const run = this.once(options.dryRun);
    this.running = run;
    try {
      return await run;
    } catch (err) {
      this.st.failures += 1;
      this.st.lastError = errorMessage(err);
      this.deps.logger.warn('blob collection failed', { error: this.st.lastError, failures: this.st.failures });
      throw err;
    } finally {
      this.running = undefined;
      if (this.st.state === 'collecting') this.st.state = 'idle';
    }
  }

  private tick(): void {
    this.collect({ dryRun: false })
      .catch(() => undefined) // counted and logged by collect
      .finally(() => this.start());
  }

  private async once(dryRun: boolean): Promise<GcReport> {
    const { guard, clock, logger } = this.deps;
    const startedMs = clock.now();
    this.st.state = 'collecting';
    // Watch first: a manifest registered after the roots are read keeps its blobs.
    const watch = guard.watch();
    try {
      const leases = guard.prune();
      const { live, manifests } = await markLive(this.deps.blobs, this.deps.roots.blobRoots());
      const swept = await sweepBlobs(this.deps.target, {
        live,
        held: (hash) => guard.held(hash, watch),
        cutoffMs: clock.now() - this.deps.graceMs,
        dryRun,
        onFailure: (path, err) => logger.warn('could not remove a blob file', { path, error: errorMessage(err) }),
      });
      const report: GcReport = { dryRun, startedMs, tookMs: clock.now() - startedMs, manifests, leases, ...swept };
      this.st.runs += 1;
      this.st.lastReport = report;
      this.st.failures += swept.failures;
      logger.info(dryRun ? 'blob collection (dry run)' : 'blob collection', { ...report });
      return report;
    } finally {
      watch.end();
    }
  }
}

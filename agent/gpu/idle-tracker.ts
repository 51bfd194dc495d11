/**
 * Flags sessions whose GPUs do nothing. A session is idle when every GPU allocated to it has
 * reported utilization at or below `thresholdPct` in every sample for at least `windowMs`.
 * A sample without a utilization figure (MIG, a failed sample) proves nothing and restarts the
 * window, so a session is never called idle on missing data.
 */
import type { GpuInfo } from '../../common/proto/types.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';

export interface IdleTrackerOptions {
  /** How long the GPUs must stay idle, default 30 minutes. */
  windowMs?: number;
  /** Utilization at or below this counts as idle, default 0 (%). */
  thresholdPct?: number;
}

export interface IdleSession {
  session: string;
  /** Since when every allocated GPU has been idle. */
  idleSinceMs: number;
  gpuIndices: number[];
}

export class IdleTracker {
  private readonly windowMs: number;
  private readonly thresholdPct: number;
  private readonly since = new Map<string, { sinceMs: number; gpus: number[] }>();

  constructor(options: IdleTrackerOptions = {}) {
    this.windowMs = options.windowMs ?? 30 * 60_000;
    this.thresholdPct = options.thresholdPct ?? 0;
    if (!Number.isFinite(this.windowMs) || this.windowMs < 0) {
      throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `idle windowMs must be a non-negative number, got ${options.windowMs}`);
    }
  }

  /**
   * Feeds one sample. `allocations` maps each session on this node to its GPU indices (the
   * indices of GpuInfo); sessions no longer listed are forgotten.
   */
  observe(gpus: readonly GpuInfo[], allocations: ReadonlyMap<string, readonly number[]>, nowMs: number): void {
    const byIndex = new Map(gpus.map((g) => [g.index ?? -1, g]));
    for (const session of [...this.since.keys()]) if (!allocations.has(session)) this.since.delete(session);
    for (const [session, indices] of allocations) {
      const idle = indices.length > 0 && indices.every((i) => this.isIdle(byIndex.get(i)));
      if (!idle) this.since.delete(session);
      else if (!this.since.has(session)) this.since.set(session, { sinceMs: nowMs, gpus: [...indices] });
    }
  }

  /** Sessions idle for at least the window at `nowMs`. */
  idleSessions(nowMs: number): IdleSession[] {
    const idle: IdleSession[] = [];
    for (const [session, entry] of this.since) {
      if (nowMs - entry.sinceMs >= this.windowMs) idle.push({ session, idleSinceMs: entry.sinceMs, gpuIndices: entry.gpus });
    }
    return idle;
  }

  isIdle(gpu: GpuInfo | undefined): boolean {
    const util = gpu?.utilizationPct;
    if (util === undefined || util === null) return false;
    const value = Number(util);
    return Number.isFinite(value) && value <= this.thresholdPct;
  }
}

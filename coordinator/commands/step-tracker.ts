import type { StepObservation } from '../metrics/metric-ingest.js';

interface RankSteps {
  step: number;
  /** The script's clock at that step. */
  tsMs: number;
  /** The coordinator's clock when it was stored. */
  seenMs: number;
  /** Steps per millisecond, smoothed; 0 until two observations. */
  rate: number;
}

const MAX_TRACKED = 100_000;
/** Weight of the newest rate in the smoothed one. */
const SMOOTHING = 0.3;

/**
 * The latest step of every rank that reports, and how fast it moves, so that a `set` for a gang
 * can name a step that every rank has not reached yet (`at_step`): then all ranks apply it at
 * the same step. In memory: after a coordinator restart it knows again after the next batches.
 */
export class StepTracker {
  private readonly ranks = new Map<string, RankSteps>();

  observe(o: StepObservation, nowMs: number): void {
    const key = `${o.session}|${o.epoch}|${o.rank}`;
    const prev = this.ranks.get(key);
    let rate = prev?.rate ?? 0;
    if (prev && o.tsMs > prev.tsMs && o.step >= prev.step) {
      const fresh = (o.step - prev.step) / (o.tsMs - prev.tsMs);
      rate = prev.rate === 0 ? fresh : prev.rate + SMOOTHING * (fresh - prev.rate);
    }
    if (!prev && this.ranks.size >= MAX_TRACKED) this.ranks.clear();
    this.ranks.set(key, { step: o.step, tsMs: o.tsMs, seenMs: nowMs, rate });
  }

  /**
   * A step no rank of the placement will have passed `leadMs` from now: the furthest rank's
   * step, carried forward at its rate to now plus the lead, plus one. Undefined when no rank
   * reported a step yet.
   */
  atStep(session: string, epoch: number, ranks: readonly number[], nowMs: number, leadMs: number): number | undefined {
    let best: number | undefined;
    for (const rank of ranks) {
      const r = this.ranks.get(`${session}|${epoch}|${rank}`);
      if (!r) continue;
      const ahead = r.rate * (Math.max(0, nowMs - r.seenMs) + leadMs);
      const projected = Math.ceil(r.step + ahead) + 1;
      best = best === undefined ? projected : Math.max(best, projected);
    }
    return best;
  }

  forgetSession(session: string): void {
    for (const key of this.ranks.keys()) if (key.startsWith(`${session}|`)) this.ranks.delete(key);
  }
}

import type { Snapshot } from './types.js';

/**
 * Fair share with decayed usage, as Slurm's multifactor plugin does: a user's past GPU-seconds
 * lose half their weight every half-life, so yesterday's heavy use fades and a burst long ago
 * does not cost a user forever, while a user who just used the cluster waits behind one who did not.
 */

/** Usage after `elapsedMs` with no new use: `previous × 2^(−elapsed / halfLife)`. */
export function decayUsage(previous: number, elapsedMs: number, halfLifeMs: number): number {
  if (elapsedMs <= 0) return previous;
  if (!(halfLifeMs > 0)) return previous;
  return previous * Math.pow(2, -elapsedMs / halfLifeMs);
}

/**
 * Usage after `elapsedMs` while holding `gpus` GPUs the whole time, in GPU-seconds: the decayed
 * previous usage plus the exactly decayed integral of the new use.
 */
export function accrueUsage(previous: number, gpus: number, elapsedMs: number, halfLifeMs: number): number {
  if (elapsedMs <= 0) return previous;
  if (!(halfLifeMs > 0)) return previous + (gpus * elapsedMs) / 1000;
  const factor = Math.pow(2, -elapsedMs / halfLifeMs);
  const added = ((gpus * halfLifeMs) / Math.LN2) * (1 - factor);
  return previous * factor + added / 1000;
}

/** A user's standing: normalized usage (usage / weight), and usage fraction over share fraction. */
export interface Standing {
  usage: number;
  normalized: number;
  /** usage fraction ÷ share fraction among active users; 1 = exactly its share, 0 when nobody used anything. */
  ratio: number;
}

/** Standing of every user with a pending or running session. */
export function standings(snapshot: Pick<Snapshot, 'pending' | 'running' | 'usageByUser' | 'sharesByUser'>): Map<string, Standing> {
  const active = new Set<string>();
  for (const s of snapshot.pending) active.add(s.user);
  for (const r of snapshot.running) active.add(r.user);
  let usageSum = 0;
  let weightSum = 0;
  for (const u of active) {
    usageSum += snapshot.usageByUser?.[u] ?? 0;
    weightSum += weightOf(snapshot, u);
  }
  const out = new Map<string, Standing>();
  for (const u of active) {
    const usage = snapshot.usageByUser?.[u] ?? 0;
    const weight = weightOf(snapshot, u);
    const ratio = usageSum > 0 ? usage / usageSum / (weight / weightSum) : 0;
    out.set(u, { usage, normalized: usage / weight, ratio });
  }
  return out;
}

function weightOf(snapshot: Pick<Snapshot, 'sharesByUser'>, user: string): number {
  const w = snapshot.sharesByUser?.[user];
  return w !== undefined && w > 0 ? w : 1;
}

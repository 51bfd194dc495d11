import { accrueUsage } from '../scheduler/fair-share.js';
import type { Store, UsageRow } from '../store/types.js';

/** Fair share forgets half of a user's past GPU time every week by default. */
export const DEFAULT_USAGE_HALF_LIFE_MS = 7 * 24 * 3_600_000;

/** GPUs each user holds now (`active` sessions), with 0 for users who only wait (`queued`). */
export function gpusByUser(active: ReadonlyArray<{ user: string; gpus: number }>, queued: ReadonlyArray<{ user: string }> = []): Map<string, number> {
  const held = new Map<string, number>();
  for (const s of queued) held.set(s.user, 0);
  for (const s of active) held.set(s.user, (held.get(s.user) ?? 0) + s.gpus);
  return held;
}

/**
 * Every user's usage brought to `nowMs`: decayed since its `updatedMs`, plus the decayed
 * integral of the GPUs it holds now over that time. A user listed in `held` (a queued user with
 * 0 GPUs is listed too, so that its row exists before its first placement) without a row
 * starts at 0 now. Pure.
 */
export function accrueRows(rows: readonly UsageRow[], held: ReadonlyMap<string, number>, nowMs: number, halfLifeMs: number): UsageRow[] {
  const out: UsageRow[] = rows.map((r) => ({
    user: r.user,
    gpuSeconds: accrueUsage(r.gpuSeconds, held.get(r.user) ?? 0, nowMs - r.updatedMs, halfLifeMs),
    updatedMs: Math.max(nowMs, r.updatedMs),
  }));
  const known = new Set(rows.map((r) => r.user));
  for (const user of held.keys()) {
    if (!known.has(user)) out.push({ user, gpuSeconds: 0, updatedMs: nowMs });
  }
  return out;
}

export function usageRecord(rows: readonly UsageRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.user] = r.gpuSeconds;
  return out;
}

/**
 * Decayed GPU-seconds per user, kept in the store so that a restart does not forget them.
 * `accrue` runs once per scheduling pass; `peek` computes the same without writing.
 */
export class UsageLedger {
  constructor(
    private readonly store: Store,
    readonly halfLifeMs: number = DEFAULT_USAGE_HALF_LIFE_MS,
  ) {}

  accrue(held: ReadonlyMap<string, number>, nowMs: number): Record<string, number> {
    const rows = accrueRows(this.store.usage(), held, nowMs, this.halfLifeMs);
    this.store.saveUsage(rows);
    return usageRecord(rows);
  }

  peek(held: ReadonlyMap<string, number>, nowMs: number): Record<string, number> {
    return usageRecord(accrueRows(this.store.usage(), held, nowMs, this.halfLifeMs));
  }
}

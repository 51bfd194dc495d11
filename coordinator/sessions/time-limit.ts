import type { SessionRow } from '../store/types.js';

/** The fields that decide when a session's declared run time (`nsml run --time`) is up. */
export type TimeLimited = Pick<SessionRow, 'timeLimitS' | 'startedMs' | 'placedMs'>;

/**
 * When the current run must end: its start (the later of the first start and the current
 * placement, so a requeued session gets its full time again) plus the limit. Undefined without a
 * limit or before it started. Computed from stored fields only, so a restarted coordinator
 * enforces what an earlier one was told.
 */
export function timeLimitDeadline(s: TimeLimited): number | undefined {
  if (s.timeLimitS <= 0 || s.startedMs <= 0) return undefined;
  return Math.max(s.startedMs, s.placedMs) + s.timeLimitS * 1000;
}

/** Whether a stop asked at `stopRequestedMs` was the time limit's (asked at or after the deadline). */
export function stoppedByTimeLimit(s: TimeLimited & Pick<SessionRow, 'stopRequestedMs'>): boolean {
  const deadline = timeLimitDeadline(s);
  return deadline !== undefined && s.stopRequestedMs > 0 && s.stopRequestedMs >= deadline;
}

/** `time limit 2h reached`, `time limit 1h30m reached`. */
export function timeLimitReason(s: Pick<SessionRow, 'timeLimitS'>): string {
  return `time limit ${formatSeconds(s.timeLimitS)} reached`;
}

/** Seconds as `2h`, `1h30m`, `45s`, `1d2h`: every non-zero unit, largest first. */
export function formatSeconds(total: number): string {
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  let left = Math.max(0, Math.round(total));
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join('') || '0s';
}

import { ErrorCodes, NsmlError } from '../common/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `2h`, `1.5d`, `250ms`, or a bare number of seconds → milliseconds. */
export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${what}: expected a duration like 90s, 30m, 2h or 1d; got "${text}"`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

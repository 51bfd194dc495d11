import { ErrorCodes, NsmlError } from '../common/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration written with units: `500ms`, `30s`, `5m`, `2h`, `1d`, or a sum such as
 * `1h30m`. A bare number is refused, since its unit would be a guess.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const input = text.trim();
  let total = 0;
  let pos = 0;
  PART.lastIndex = 0;
  while (pos < input.length) {
    PART.lastIndex = pos;
    const m = PART.exec(input);
    if (!m) break;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  if (input.length === 0 || pos !== input.length || !Number.isFinite(total)) {
    throw new NsmlError(
      ErrorCodes.USAGE,
      `${flag} must be a duration such as 500ms, 30s, 5m, 2h or 1h30m; got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(total);
}

/** A duration for people: `850ms`, `12s`, `3m20s`, `2h05m`, `3d4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

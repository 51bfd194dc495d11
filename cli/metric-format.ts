/** A metric value for people: six significant digits; NaN and the infinities by name. */
export function formatMetricValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** A metric value for JSON, which has no NaN or infinity: those travel as strings (as on the SDK bridge). */
export function jsonNumber(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A time of day in the local zone, to the millisecond: `14:03:07.250`. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '-';
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** A session's summary values in one cell: `val/acc=0.91 loss=0.3`. */
export function formatSummary(summary: Record<string, number> | undefined, max = 60): string {
  const text = Object.entries(summary ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${formatMetricValue(v)}`).join(' ');
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

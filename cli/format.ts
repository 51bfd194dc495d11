import { escapeText } from '../common/echo.js';
import { formatDuration } from './duration.js';

/** Aligned columns for people: a header row, then one row per item, two spaces apart; control and bidi characters escaped. */
export function formatTable(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(escapeText));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in human units, powers of 1024: `512 B`, `12.4 KB`, `3.0 GB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** MiB in human units: `512 MiB` is `512.0 MB`, `65536` is `64.0 GB`. */
export function formatMib(mib: number): string {
  return mib > 0 ? formatBytes(mib * 1024 * 1024) : '-';
}

/** A count with thousands separators: `1,997`. */
export function formatCount(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** How long ago a moment was: `12s ago`; `-` when unknown (0). */
export function formatAgo(ms: number, now: number): string {
  if (!ms) return '-';
  return `${formatDuration(Math.max(0, now - ms))} ago`;
}

/** `1 file`, `3 files`. */
export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** Cuts a text for a table cell, with an ellipsis. */
export function truncate(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

import { escapeText } from '../common/echo.js';
import type { Session__Output } from '../common/proto/types.js';
import { formatDuration } from './duration.js';
import { formatAgo, formatTable, truncate } from './format.js';
import { formatSummary } from './metric-format.js';

export const SESSION_HEADERS = ['NAME', 'STATE', 'TYPE', 'GPUS', 'NODES', 'CREATED', 'DURATION', 'REASON/MEMO'];

/** The nodes a session has processes on, in rank order, without repeats. */
export function sessionNodes(s: Session__Output): string[] {
  const sorted = [...s.placements].sort((a, b) => a.rank - b.rank);
  return [...new Set(sorted.map((p) => p.nodeId))];
}

/** How long it has run (or ran); undefined before it started. */
export function sessionDurationMs(s: Session__Output, now: number): number | undefined {
  if (!s.startedMs) return undefined;
  return Math.max(0, (s.endedMs || now) - s.startedMs);
}

/** Why it waits or ended (queued, failed, lost...), else the user's memo. */
export function sessionNote(s: Session__Output): string {
  const memoFirst = s.state === 'running' || s.state === 'succeeded';
  return (memoFirst ? s.memo || s.reason : s.reason || s.memo) ?? '';
}

export function sessionRow(s: Session__Output, now: number): string[] {
  const duration = sessionDurationMs(s, now);
  return [
    s.name,
    s.idle && s.state === 'running' ? 'running (idle)' : s.state,
    s.kind || 'normal',
    String(s.gpus),
    sessionNodes(s).join(',') || '-',
    formatAgo(s.createdMs, now),
    duration === undefined ? '-' : formatDuration(duration),
    truncate(sessionNote(s), 60) || '-',
  ];
}

/**
 * The table of `nsml ps`; a PARENT column (what a fork or resume continued from) and a SUMMARY
 * column (the scripts' `summary=True` values) when a session has one, before REASON/MEMO.
 */
export function formatSessionTable(sessions: Session__Output[], now: number): string {
  const extra: Array<[string, (s: Session__Output) => string]> = [];
  if (sessions.some((s) => s.parent)) extra.push(['PARENT', (s) => s.parent || '-']);
  if (sessions.some((s) => Object.keys(s.summary ?? {}).length > 0)) extra.push(['SUMMARY', (s) => formatSummary(s.summary) || '-']);
  const headers = [...SESSION_HEADERS.slice(0, -1), ...extra.map(([h]) => h), SESSION_HEADERS[SESSION_HEADERS.length - 1]!];
  const rows = sessions.map((s) => {
    const row = sessionRow(s, now);
    return [...row.slice(0, -1), ...extra.map(([, cell]) => cell(s)), row[row.length - 1]!];
  });
  return formatTable(headers, rows);
}

/** One line for a session that has ended (or not): `alice/scratch/3 failed (exit 1): reason`. */
export function describeOutcome(s: Session__Output, now: number): string {
  const parts = [`${s.name} ${s.state}`];
  if (s.exitCode !== undefined && s.exitCode !== null) parts.push(`(exit ${s.exitCode})`);
  const duration = sessionDurationMs(s, now);
  if (duration !== undefined) parts.push(`after ${formatDuration(duration)}`);
  let line = parts.join(' ');
  if (s.reason) line += `: ${s.reason}`;
  return escapeText(line);
}

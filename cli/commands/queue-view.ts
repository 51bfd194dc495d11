import type { QueueEntry__Output } from '../../common/proto/types.js';
import { formatDuration } from '../duration.js';
import { formatTable, truncate } from '../format.js';

/** Each wait-reason kind in words: the cause `nsml queue why` names. */
export const CAUSES: Record<string, string> = {
  fragmentation: 'fragmentation',
  priority: 'priority',
  'fair-share': 'fair share',
  reservation: 'reservation',
  quarantine: 'quarantined GPU',
  'no-fit': 'fits no node shape',
  resources: 'resources',
};

export function causeOf(e: QueueEntry__Output): string {
  if (e.state === 'starting') return 'starting';
  return CAUSES[e.reasonKind] ?? (e.reasonKind || '-');
}

/** `1st`, `2nd`, `3rd`, `11th`, `22nd`. */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

function why(e: QueueEntry__Output): string {
  if (e.state === 'starting') return 'fits now; placed at the next scheduling pass';
  return e.reason;
}

/** The `nsml queue` table, in the policy's order. */
export function formatQueueTable(entries: QueueEntry__Output[]): string {
  const rows = entries.map((e) => [
    String(e.position), e.session, String(e.gpus), String(e.priority), formatDuration(e.waitedMs), causeOf(e), truncate(why(e), 100) || '-',
  ]);
  return formatTable(['POS', 'NAME', 'GPUS', 'PRIO', 'WAITED', 'CAUSE', 'WHY'], rows);
}

function runTime(e: QueueEntry__Output): string | undefined {
  if (!e.expectedDurationMs) return undefined;
  return `${formatDuration(e.expectedDurationMs)} (${e.expectedDurationSource === 'learned' ? 'learned from earlier runs' : 'declared with --time'})`;
}

/** `nsml queue why SESSION`: its place, the cause and the reason, in a few lines. */
export function describeWhy(e: QueueEntry__Output, total: number | undefined, policy: string | undefined): string {
  if (e.position === 0) return `${e.session} is ${e.state}, not waiting${e.reason ? `: ${e.reason}` : ''}\n`;
  const place = `${ordinal(e.position)}${total ? ` of ${total}` : ''} in the queue${policy ? ` (policy ${policy})` : ''}`;
  const lines = [`${e.session} is ${place}, waiting ${formatDuration(e.waitedMs)}`, `  cause:  ${causeOf(e)}`, `  why:    ${why(e)}`];
  if (e.blockedBy) lines.push(`  behind: ${e.blockedBy}`);
  const time = runTime(e);
  if (time) lines.push(`  run time: ${time}`);
  if (e.preemptions > 0) lines.push(`  preempted and requeued ${e.preemptions} time${e.preemptions === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

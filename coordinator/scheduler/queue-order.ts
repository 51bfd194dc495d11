import type { Standing } from './fair-share.js';
import type { PendingSession } from './types.js';

/** What the default order is built from. */
export interface OrderRules {
  /** A session queued at least this long is starving: it goes first within its priority. */
  starvationMs: number;
  /** The same for a gang that needs more than one node (whole nodes are the hardest to get). */
  gangStarvationMs: number;
  /** Least-attained-service levels: GPU-ms of service that move a session one level down. */
  levelsGpuMs: number[];
}

/** The least-attained-service level of a session that has had `attainedGpuMs` of service. */
export function serviceLevel(attainedGpuMs: number, levelsGpuMs: number[]): number {
  let level = 0;
  while (level < levelsGpuMs.length && attainedGpuMs >= levelsGpuMs[level]!) level++;
  return level;
}

/** When a session last entered the queue. */
export function queuedAt(s: Pick<PendingSession, 'queuedAtMs' | 'submittedAtMs'>): number {
  return s.queuedAtMs ?? s.submittedAtMs;
}

/** How long a session may queue before it starves: shorter for gangs that span nodes. */
export function starvationBound(s: Pick<PendingSession, 'gpus' | 'gpusPerNode'>, rules: OrderRules, largestNode: number): number {
  const multiNode = s.gpusPerNode > 0 ? s.gpus > s.gpusPerNode : s.gpus > largestNode;
  return multiNode ? rules.gangStarvationMs : rules.starvationMs;
}

export function isStarving(s: Pick<PendingSession, 'queuedAtMs' | 'submittedAtMs' | 'gpus' | 'gpusPerNode'>, nowMs: number, rules: OrderRules, largestNode: number): boolean {
  return nowMs - queuedAt(s) >= starvationBound(s, rules, largestNode);
}

/**
 * The default queue order: higher priority first; within a priority, starving sessions first
 * (longest queued first); then least attained service (a session that has already had GPU time,
 * in an earlier run, waits behind fresh ones); then the user with the least decayed usage per
 * share; then submission order (the order of `pending`).
 *
 * Every key but the starving sessions' queue time is a small rank, so each session gets one
 * exact number (priority rank, starving, level, user rank, position) and a native numeric sort
 * does the work; the few starving sessions are then ordered by queue time.
 */
export function orderQueue(pending: PendingSession[], nowMs: number, rules: OrderRules, standings: Map<string, Standing>, largestNode: number): PendingSession[] {
  const distinct = new Set<number>();
  for (const s of pending) distinct.add(s.priority);
  const priorities = [...distinct].sort((a, b) => b - a);
  const users = userRanks(standings);
  const levels = rules.levelsGpuMs.length + 1;
  if (pending.length >= POSITION || priorities.length > 64 || users.size >= USERS || levels > 15) return orderByComparator(pending, nowMs, rules, standings, largestNode);
  const rankOf = new Map(priorities.map((p, i) => [p, i] as const));
  const oneUser = new Set(users.values()).size <= 1;
  const starvesBefore = nowMs - Math.min(rules.starvationMs, rules.gangStarvationMs);
  const keys = new Float64Array(pending.length);
  let sorted = true;
  for (let i = 0; i < pending.length; i++) {
    const s = pending[i]!;
    const starving = queuedAt(s) <= starvesBefore && isStarving(s, nowMs, rules, largestNode);
    const level = starving ? 0 : s.attainedGpuMs ? serviceLevel(s.attainedGpuMs, rules.levelsGpuMs) + 1 : 1;
    const user = starving || oneUser ? 0 : (users.get(s.user) ?? 0);
    const rank = priorities.length === 1 ? 0 : rankOf.get(s.priority)!;
    keys[i] = ((rank * 16 + level) * USERS + user) * POSITION + i;
    if (i > 0 && keys[i]! < keys[i - 1]!) sorted = false;
  }
  if (!sorted) keys.sort();
  const out = new Array<PendingSession>(pending.length);
  let run = -1;
  let runGroup = -1;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out[i] = pending[k % POSITION]!;
    const group = Math.floor(k / (POSITION * USERS));
    if (run >= 0 && group !== runGroup) {
      sortByQueueTime(out, run, i);
      run = -1;
    }
    if (run < 0 && group % 16 === 0) {
      run = i;
      runGroup = group;
    }
  }
  if (run >= 0) sortByQueueTime(out, run, keys.length);
  return out;
}

const POSITION = 2 ** 20;
const USERS = 2 ** 16;

/** Users ranked by normalized usage; equal usage, equal rank. */
function userRanks(standings: Map<string, Standing>): Map<string, number> {
  const sorted = [...standings.entries()].sort((a, b) => a[1].normalized - b[1].normalized);
  const out = new Map<string, number>();
  let rank = 0;
  sorted.forEach(([user, st], i) => {
    if (i > 0 && st.normalized !== sorted[i - 1]![1].normalized) rank = i;
    out.set(user, rank);
  });
  return out;
}

function sortByQueueTime(out: PendingSession[], from: number, to: number): void {
  if (to - from < 2) return;
  const run = out.slice(from, to).map((s, i) => ({ s, i }));
  run.sort((a, b) => queuedAt(a.s) - queuedAt(b.s) || a.i - b.i);
  run.forEach((x, j) => (out[from + j] = x.s));
}

/** The same order with a comparator, for queues too large or too varied for the packed keys. */
function orderByComparator(pending: PendingSession[], nowMs: number, rules: OrderRules, standings: Map<string, Standing>, largestNode: number): PendingSession[] {
  const keyed = pending.map((s, index) => ({
    s,
    starving: isStarving(s, nowMs, rules, largestNode),
    level: serviceLevel(s.attainedGpuMs ?? 0, rules.levelsGpuMs),
    usage: standings.get(s.user)?.normalized ?? 0,
    index,
  }));
  keyed.sort((a, b) => {
    if (a.s.priority !== b.s.priority) return b.s.priority - a.s.priority;
    if (a.starving !== b.starving) return a.starving ? -1 : 1;
    if (a.starving) return queuedAt(a.s) - queuedAt(b.s) || a.index - b.index;
    return a.level - b.level || a.usage - b.usage || a.index - b.index;
  });
  return keyed.map((k) => k.s);
}

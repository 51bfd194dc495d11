import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { standings, type Standing } from './fair-share.js';
import { formatDuration, formatNodes } from './format.js';
import { chooseVictims, lostWork, type VictimChoice } from './preemption.js';
import { isStarving, orderQueue, queuedAt, serviceLevel, starvationBound, type OrderRules } from './queue-order.js';
import { Round } from './round.js';
import { shadowReservation } from './shadow.js';
import type { Decide, PendingSession, RunningSession } from './types.js';
import { finishWaiting } from './wait-reasons.js';

export interface DefaultPolicyOptions {
  /** A session queued this long is starving: it goes first and takes back what was queued after it. Default 48 h. */
  starvationMs?: number;
  /** The starvation bound of a gang that needs more than one node: whole free nodes are what small sessions take first. Default 12 h. */
  gangStarvationMs?: number;
  /** Least-attained-service levels in GPU-hours. Default [4, 64]. */
  levelsGpuHours?: number[];
  /** Preempt at all. Default true. */
  preemption?: boolean;
  /** Preempt a session that has had more service (a higher level) for a fresh one. Default true. */
  servicePreemption?: boolean;
  /** A run younger than this is not preempted for service or fair share. Default 1 h. */
  minRunMs?: number;
  /** A run that started after starving is not preempted for service or fair share for this long. Default 1 h. */
  shieldMs?: number;
  /** Service and fair-share preemption spare a run whose last checkpoint is older than this (it would lose too much). Default 1 h. */
  maxLossMs?: number;
  /** A user above (1 + slack) × its share is over its fair share. Default 0.5. */
  fairShareSlack?: number;
  /** Blocked sessions per round that may look for victims. Default 4. */
  preemptionsPerRound?: number;
}

export interface CompiledDefaultPolicyOptions extends OrderRules {
  preemption: boolean;
  servicePreemption: boolean;
  minRunMs: number;
  shieldMs: number;
  maxLossMs: number;
  fairShareSlack: number;
  preemptionsPerRound: number;
}

export function compileDefaultPolicyOptions(o: DefaultPolicyOptions = {}): CompiledDefaultPolicyOptions {
  const levels = o.levelsGpuHours ?? [4, 64];
  const bad = [
    ['starvationMs', o.starvationMs],
    ['gangStarvationMs', o.gangStarvationMs],
    ['minRunMs', o.minRunMs],
    ['shieldMs', o.shieldMs],
    ['maxLossMs', o.maxLossMs],
    ['fairShareSlack', o.fairShareSlack],
    ['preemptionsPerRound', o.preemptionsPerRound],
    ...levels.map((l) => ['levelsGpuHours', l] as const),
  ].filter(([, v]) => v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v)));
  if (bad.length > 0) {
    throw new NsmlError(ErrorCodes.CONFIG, `scheduler options: expected finite numbers ≥ 0; got ${bad.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  }
  return {
    starvationMs: o.starvationMs ?? 48 * 3_600_000,
    gangStarvationMs: o.gangStarvationMs ?? 12 * 3_600_000,
    levelsGpuMs: [...levels].sort((a, b) => a - b).map((h) => h * 3_600_000),
    preemption: o.preemption ?? true,
    servicePreemption: o.servicePreemption ?? true,
    minRunMs: o.minRunMs ?? 3_600_000,
    shieldMs: o.shieldMs ?? 3_600_000,
    maxLossMs: o.maxLossMs ?? 3_600_000,
    fairShareSlack: o.fairShareSlack ?? 0.5,
    preemptionsPerRound: o.preemptionsPerRound ?? 4,
  };
}

/**
 * The default policy, which needs no run times: priority first; then starving sessions (queued
 * past `starvationMs`), oldest first; then least attained GPU service, so short sessions finish
 * first without anyone declaring a time; then fair share by decayed usage; then submission.
 * Anything that fits starts (best fit) unless it would take nodes held for a session ahead of
 * it. A blocked session may preempt whole gangs that rank below it, losing the least work.
 * A starving session that cannot preempt yet is the head: with known run times it gets the
 * EASY reservation (only sessions that end before its start may use those nodes); without,
 * the nodes stay busy with sessions it may preempt, and it takes them back as soon as the
 * sessions queued before it have ended.
 */
export function createDefaultPolicy(options: DefaultPolicyOptions = {}): Decide {
  const o = compileDefaultPolicyOptions(options);
  return (snapshot, nowMs) => decide(o, snapshot, nowMs);
}

function decide(o: CompiledDefaultPolicyOptions, snapshot: Parameters<Decide>[0], nowMs: number): ReturnType<Decide> {
  const round = new Round(snapshot, nowMs);
  const largest = round.largestNode;
  const stand = standings(snapshot);
  const order = orderQueue(snapshot.pending, nowMs, o, stand, largest);
  const taken = new Set<string>();
  const victims = victimClasses(o, snapshot.running, nowMs, stand);
  const hard = new Uint8Array(round.cap.nodes.length);
  let softStartMs = Infinity;
  let attempts = 0;
  let headReserved = false;
  for (const s of order) {
    if (!round.admissible(s).ok) continue;
    const endsMs = nowMs + (s.expectedDurationMs ?? Infinity);
    if (round.tryPlace(s, endsMs <= softStartMs ? hard : round.reserved)) continue;
    if (o.preemption && attempts < o.preemptionsPerRound && mayPreempt(o, s, victims, nowMs, stand, largest)) {
      attempts++;
      const choice = chooseVictims(round, s, (r) => eligibleVictim(o, s, r, nowMs, stand, largest), taken);
      if (choice) {
        preempt(round, s, choice, taken, hard);
        continue;
      }
    }
    if (!headReserved && isStarving(s, nowMs, o, largest)) {
      headReserved = true;
      softStartMs = Math.min(softStartMs, reserveHead(round, s));
    }
  }
  finishWaiting(round, order, { usesPriority: true, standings: stand, fairShareSlack: o.fairShareSlack });
  round.plan.wakeAtMs = wakeAt(o, round, nowMs);
  return round.plan;
}

/**
 * The starving head's reservation. With a known start it holds the nodes (only sessions that
 * end before it may use them) and the start is returned; otherwise it is recorded for `queue
 * why` but holds nothing, and Infinity is returned.
 */
function reserveHead(round: Round, s: PendingSession): number {
  const r = shadowReservation(round, s);
  if (!r) return Infinity;
  const waited = `queued ${formatDuration(round.nowMs - queuedAt(s))}, past the starvation bound`;
  if (r.startAtMs === undefined) {
    round.plan.reservations!.push(r);
    round.hint(s, { kind: 'resources', message: `${waited}; it takes ${formatNodes(r.nodeIds)} as soon as the sessions queued before it there have ended` });
    return Infinity;
  }
  round.reserve(r);
  round.hint(s, { kind: 'resources', message: `${waited}; holds ${formatNodes(r.nodeIds)}, starting in ${formatDuration(r.startAtMs - round.nowMs)}` });
  return r.startAtMs;
}

function preempt(round: Round, s: PendingSession, choice: VictimChoice, taken: Set<string>, hard: Uint8Array): void {
  for (const v of choice.victims) {
    taken.add(v.id);
    if (!v.stopping) round.plan.preemptions.push({ sessionId: v.id, forSessionId: s.id, reason: `preempted for ${s.id}`, lostGpuMs: lostWork(v, round.nowMs) });
  }
  round.reserve({ sessionId: s.id, nodeIds: choice.nodeIds, preempting: true });
  markHard(round, choice.nodeIds, hard);
  round.hint(s, { kind: 'resources', message: `${choice.victims.length} session(s) are checkpointing and stopping to make room for it on ${formatNodes(choice.nodeIds)}` });
}

function markHard(round: Round, nodeIds: string[], hard: Uint8Array): void {
  for (const id of nodeIds) {
    const p = round.cap.positionOf(id);
    if (p !== undefined) hard[p] = 1;
  }
}

/** Per priority, what the running sessions could lose to: the best a pending session can hope to preempt. */
interface VictimClasses {
  lowestPriority: number;
  byPriority: Map<number, { maxLevel: number; overShare: boolean }>;
  /** Some session is already stopping (a preemption of an earlier round): its nodes are held for the session it makes room for. */
  stopping: boolean;
}

function victimClasses(o: CompiledDefaultPolicyOptions, running: RunningSession[], nowMs: number, stand: Map<string, Standing>): VictimClasses {
  const out: VictimClasses = { lowestPriority: Infinity, byPriority: new Map(), stopping: false };
  for (const r of running) {
    out.stopping ||= r.stopping === true;
    if (r.preemptible === false || r.stopping) continue;
    out.lowestPriority = Math.min(out.lowestPriority, r.priority);
    if (shielded(o, r, nowMs) || nowMs - r.startedAtMs < o.minRunMs || nowMs - (r.lastCheckpointAtMs ?? r.startedAtMs) > o.maxLossMs) continue;
    const c = out.byPriority.get(r.priority) ?? { maxLevel: -1, overShare: false };
    c.maxLevel = Math.max(c.maxLevel, serviceLevel((r.attainedGpuMs ?? 0) + r.gpus * (nowMs - r.startedAtMs), o.levelsGpuMs));
    c.overShare ||= (stand.get(r.user)?.ratio ?? 0) > 1 + o.fairShareSlack;
    out.byPriority.set(r.priority, c);
  }
  return out;
}

/** A cheap pre-check, so that victims are looked for only where some could be eligible. */
function mayPreempt(o: CompiledDefaultPolicyOptions, s: PendingSession, v: VictimClasses, nowMs: number, stand: Map<string, Standing>, largest: number): boolean {
  if (v.stopping || v.lowestPriority < s.priority) return true;
  if (isStarving(s, nowMs, o, largest)) return v.lowestPriority <= s.priority;
  const c = v.byPriority.get(s.priority);
  if (!c) return false;
  if (c.overShare && (stand.get(s.user)?.ratio ?? 0) < 1) return true;
  return o.servicePreemption && c.maxLevel > serviceLevel(s.attainedGpuMs ?? 0, o.levelsGpuMs);
}

/**
 * Whether `r` may be preempted for `s`: never above its priority; always below it. At equal
 * priority a starving `s` takes back what sessions queued after it hold (they overtook it;
 * a requeued victim is queued after it, so two sessions never preempt each other back and
 * forth). Otherwise, once `r` has run `minRunMs`, if its last checkpoint is at most `maxLossMs`
 * old and unless it started starving itself: when `r` has had more service than `s`, or `r`'s
 * user is over its fair share and `s`'s is under.
 */
export function eligibleVictim(o: CompiledDefaultPolicyOptions, s: PendingSession, r: RunningSession, nowMs: number, stand: Map<string, Standing>, largest: number): boolean {
  if (r.preemptible === false || r.stopping) return false;
  if (r.priority !== s.priority) return r.priority < s.priority;
  if (isStarving(s, nowMs, o, largest)) return queuedAt(s) < (r.queuedAtMs ?? r.submittedAtMs ?? -Infinity);
  if (shielded(o, r, nowMs)) return false;
  if (nowMs - r.startedAtMs < o.minRunMs || nowMs - (r.lastCheckpointAtMs ?? r.startedAtMs) > o.maxLossMs) return false;
  const mine = stand.get(s.user);
  const theirs = stand.get(r.user);
  if (mine && theirs && mine.ratio < 1 && theirs.ratio > 1 + o.fairShareSlack) return true;
  if (!o.servicePreemption) return false;
  const attained = (r.attainedGpuMs ?? 0) + r.gpus * (nowMs - r.startedAtMs);
  return serviceLevel(attained, o.levelsGpuMs) > serviceLevel(s.attainedGpuMs ?? 0, o.levelsGpuMs);
}

/** A run that started after starving is shielded from service and fair-share preemption for `shieldMs`. */
function shielded(o: CompiledDefaultPolicyOptions, r: RunningSession, nowMs: number): boolean {
  return nowMs - r.startedAtMs < o.shieldMs && startedStarving(o, r);
}

function startedStarving(o: CompiledDefaultPolicyOptions, r: RunningSession): boolean {
  const q = r.queuedAtMs ?? r.submittedAtMs;
  return q !== undefined && r.startedAtMs - q >= (r.assignments.length > 1 ? o.gangStarvationMs : o.starvationMs);
}

/** The next time something changes without an event: a session starts starving, or a run may become a victim. */
function wakeAt(o: CompiledDefaultPolicyOptions, round: Round, nowMs: number): number | undefined {
  if (round.plan.waiting.length === 0) return undefined;
  let next = Infinity;
  for (const s of round.snapshot.pending) {
    const t = queuedAt(s) + starvationBound(s, o, round.largestNode);
    if (t > nowMs && t < next) next = t;
  }
  if (o.preemption) {
    for (const r of round.snapshot.running) {
      const minRun = r.startedAtMs + o.minRunMs;
      const shield = r.startedAtMs + o.shieldMs;
      if (minRun > nowMs && minRun < next) next = minRun;
      if (shield > nowMs && shield < next) next = shield;
      if (o.servicePreemption) next = Math.min(next, levelChange(o, r, nowMs));
    }
  }
  return Number.isFinite(next) ? next : undefined;
}

function levelChange(o: CompiledDefaultPolicyOptions, r: RunningSession, nowMs: number): number {
  if (r.gpus === 0) return Infinity;
  const attained = (r.attainedGpuMs ?? 0) + r.gpus * (nowMs - r.startedAtMs);
  const level = serviceLevel(attained, o.levelsGpuMs);
  const bound = o.levelsGpuMs[level];
  if (bound === undefined) return Infinity;
  return nowMs + Math.ceil((bound - attained) / r.gpus);
}

export const decideDefault: Decide = createDefaultPolicy();

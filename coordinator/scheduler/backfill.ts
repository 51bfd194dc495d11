import { formatDuration } from './format.js';
import { Round } from './round.js';
import { shadowReservation } from './shadow.js';
import type { Decide, PendingSession, Reservation } from './types.js';
import { finishWaiting } from './wait-reasons.js';

/**
 * FIFO with EASY backfill: sessions start in submission order; the first that does not fit
 * (the head) gets a reservation at its shadow time (when enough running sessions have ended,
 * by their declared run times), and a later session may start now only if it fits and its
 * declared run time ends by that shadow time, so it can never delay the head. A session with
 * no declared time never backfills.
 */
export const decideBackfill: Decide = (snapshot, nowMs) => {
  const round = new Round(snapshot, nowMs);
  let head: { s: PendingSession; r: Reservation | undefined } | undefined;
  for (const s of snapshot.pending) {
    if (!round.admissible(s).ok) continue;
    if (!head) {
      if (round.tryPlace(s)) continue;
      head = { s, r: shadowReservation(round, s) };
      if (head.r) round.plan.reservations!.push(head.r);
      continue;
    }
    const shadowMs = head.r?.startAtMs ?? Infinity;
    const endMs = nowMs + (s.expectedDurationMs ?? Infinity);
    if (endMs <= shadowMs && round.tryPlace(s)) continue;
    if (round.fitsNow(s)) round.hint(s, { kind: 'reservation', blockedBy: head.s.id, message: backfillRefusal(s, head.s, shadowMs - nowMs) });
  }
  finishWaiting(round, snapshot.pending, { usesPriority: false });
  return round.plan;
};

function backfillRefusal(s: PendingSession, head: PendingSession, shadowInMs: number): string {
  const reserved = `the start reserved for the head ${head.id} (in ${formatDuration(shadowInMs)})`;
  if (s.expectedDurationMs === undefined) return `it fits now, but it has no declared run time (nsml run --time), so it could delay ${reserved}`;
  return `it fits now, but its declared run time of ${formatDuration(s.expectedDurationMs)} would run past ${reserved}`;
}

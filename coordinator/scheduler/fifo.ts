import { Round, type Hint } from './round.js';
import type { Decide, PendingSession } from './types.js';
import { finishWaiting } from './wait-reasons.js';

/**
 * Strict FIFO: start sessions in submission order until the first that does not fit; nothing
 * behind it starts before it does (head-of-line blocking, as YARN's capacity scheduler).
 * A session that can never fit is skipped rather than blocking the queue forever.
 */
export const decideFifo: Decide = (snapshot, nowMs) => {
  const round = new Round(snapshot, nowMs);
  let head: { s: PendingSession; hint: Hint } | undefined;
  for (const s of snapshot.pending) {
    if (!round.admissible(s).ok) continue;
    if (!head) {
      if (!round.tryPlace(s)) head = { s, hint: { kind: 'reservation', blockedBy: s.id, message: `it fits now, but strict FIFO starts nothing before the head ${s.id}` } };
      continue;
    }
    if (round.fitsNow(s)) round.hint(s, head.hint);
  }
  finishWaiting(round, snapshot.pending, { usesPriority: false });
  return round.plan;
};

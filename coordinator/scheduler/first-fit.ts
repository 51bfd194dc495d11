import { Round } from './round.js';
import type { Decide } from './types.js';
import { finishWaiting } from './wait-reasons.js';

/**
 * The simplest policy: walk the queue in submission order and start every session whose whole
 * gang fits now (best-fit packing). No reservation, so big gangs can starve; see the default
 * policy for better.
 */
export const decideFirstFit: Decide = (snapshot, nowMs) => {
  const round = new Round(snapshot, nowMs);
  for (const s of snapshot.pending) {
    if (round.admissible(s).ok) round.tryPlace(s);
  }
  finishWaiting(round, snapshot.pending, { usesPriority: false });
  return round.plan;
};

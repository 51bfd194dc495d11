import { Round } from './round.js';
import type { Decide } from './types.js';
import { finishWaiting } from './wait-reasons.js';

/**
 * Shortest job first with known run times, starting anything that fits in that order. A lower
 * bound for comparison in the simulator, not a real option: run times are not known in advance.
 * Sessions with no expected run time go last, in submission order.
 */
export const decideSjfOracle: Decide = (snapshot, nowMs) => {
  const round = new Round(snapshot, nowMs);
  const order = snapshot.pending
    .map((s, i) => ({ s, i, d: s.expectedDurationMs ?? Infinity }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.s);
  for (const s of order) {
    if (round.admissible(s).ok) round.tryPlace(s);
  }
  finishWaiting(round, order, { usesPriority: false });
  return round.plan;
};

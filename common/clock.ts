/** Time as a dependency, so that loops with timers can be tested with a fake. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

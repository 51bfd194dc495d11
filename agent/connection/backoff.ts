/**
 * Exponential reconnection delays with jitter: attempt n waits a random time between half and
 * all of min(max, min·2ⁿ), so that many agents that lost the coordinator together do not
 * come back together.
 */
export class Backoff {
  private attempt = 0;
  private limitMs = Infinity;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.limitMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  /** Lowers the longest delay (never below the shortest). */
  limit(ms: number): void {
    this.limitMs = Math.max(this.minMs, ms);
  }

  /** After a successful registration, start again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock.js';

/**
 * A clock that runs `speed` times faster than the wall clock, starting at `originMs`: a
 * coordinator given it sees trace time, so its policy's thresholds (hours) hold while a
 * replay lasts seconds.
 */
export class ScaledClock implements Clock {
  private readonly realStart = performance.now();

  constructor(
    readonly originMs: number,
    readonly speed: number,
  ) {}

  now(): number {
    return Math.round(this.originMs + (performance.now() - this.realStart) * this.speed);
  }

  /** Trace time since the origin, ms. */
  elapsed(): number {
    return this.now() - this.originMs;
  }

  /** Wall-clock milliseconds that `traceMs` of trace time take. */
  real(traceMs: number): number {
    return Math.max(0, traceMs / this.speed);
  }
}

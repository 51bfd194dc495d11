import type { Session__Output } from '../common/proto/types.js';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, isTerminal, isTransient } from './retry.js';
import { sleep } from '../common/sleep.js';

/** The call that waiting needs; CoordinatorClient has it. */
export interface WaitSource {
  waitSession(name: string, timeoutMs: number, signal?: AbortSignal): Promise<Session__Output>;
  toError(err: unknown): Error;
}

export interface WaitForEndOptions {
  /** Overall limit; none when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Give up after failing to reach the coordinator for this long; default 60 s. */
  giveUpAfterMs?: number;
  backoff?: BackoffOptions;
}

/**
 * Calls Wait in rounds of at most a minute until the session is terminal, the timeout passes or
 * the signal aborts; returns the last state seen (not terminal on timeout or abort). Rides out
 * a coordinator restart.
 */
export async function waitForEnd(source: WaitSource, name: string, options: WaitForEndOptions = {}): Promise<Session__Output | undefined> {
  const until = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let last: Session__Output | undefined;
  let failingSince: number | undefined;
  let attempt = 0;
  while (!options.signal?.aborted) {
    const remaining = until - Date.now();
    if (remaining <= 0 && last) return last;
    try {
      last = await source.waitSession(name, Math.max(1, Math.min(60_000, remaining)), options.signal);
      failingSince = undefined;
      attempt = 0;
      if (isTerminal(last.state)) return last;
    } catch (err) {
      if (options.signal?.aborted) break;
      if (!isTransient(err)) throw source.toError(err);
      failingSince ??= Date.now();
      if (Date.now() - failingSince > (options.giveUpAfterMs ?? 60_000) || Date.now() >= until) throw source.toError(err);
      await sleep(backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF), options.signal);
      attempt += 1;
    }
  }
  return last;
}

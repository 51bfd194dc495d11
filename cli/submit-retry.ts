import { randomBytes } from 'node:crypto';
import { NsmlError, errorMessage, isNsmlError } from '../common/errors.js';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, isTransient } from './retry.js';
import { sleep } from '../common/sleep.js';

/** How long `nsml run` keeps retrying a submission that the coordinator did not answer. */
export const SUBMIT_RETRY_BUDGET_MS = 30_000;

/** A fresh Submit request id: 128 random bits in base64url (22 characters). */
export function newRequestId(): string {
  return randomBytes(16).toString('base64url');
}

export interface SubmitRetryOptions {
  /** The request id every attempt carries (named in messages). */
  requestId: string;
  /** No new attempt starts after this long since the first (default SUBMIT_RETRY_BUDGET_MS). */
  budgetMs?: number;
  backoff?: BackoffOptions;
  signal?: AbortSignal;
  /** Told before each wait: what failed and when the next attempt comes. */
  onRetry?: (err: NsmlError, attempt: number, delayMs: number) => void;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs one submission (`attempt`: upload what is missing, then Submit with the request id) and
 * repeats it while it fails with NSML_E_COORDINATOR_UNAVAILABLE or NSML_E_DEADLINE_EXCEEDED:
 * the coordinator may have created the session before it died or timed out, and the same
 * request id makes it answer with that session instead of creating another. Any other failure
 * is final. Gives up once the next attempt would start past the budget, saying so.
 */
export async function withSubmitRetry<T>(attempt: () => Promise<T>, options: SubmitRetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const budgetMs = options.budgetMs ?? SUBMIT_RETRY_BUDGET_MS;
  const started = now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err) || !isNsmlError(err) || options.signal?.aborted) throw err;
      const delayMs = backoffDelay(n - 1, options.backoff ?? DEFAULT_BACKOFF);
      const elapsed = now() - started;
      if (elapsed + delayMs > budgetMs) {
        throw new NsmlError(
          err.code,
          `${errorMessage(err)} (gave up after ${n} attempt${n === 1 ? '' : 's'} in ${Math.round(elapsed / 1000)} s; if the coordinator got the request, \`nsml ps\` shows the session: running \`nsml run\` again submits another)`,
          { cause: err, details: { requestId: options.requestId } },
        );
      }
      options.onRetry?.(err, n, delayMs);
      await wait(delayMs, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}

/** The line `nsml run` prints on stderr before waiting to retry. */
export function describeRetry(err: NsmlError, attempt: number, delayMs: number, requestId: string, budgetMs = SUBMIT_RETRY_BUDGET_MS): string {
  return `nsml: submit attempt ${attempt} failed: ${err.code}: ${errorMessage(err)}\n`
    + `nsml: retrying in ${(delayMs / 1000).toFixed(1)} s with the same request id ${requestId} (no duplicate session is created); giving up after ${Math.round(budgetMs / 1000)} s\n`;
}

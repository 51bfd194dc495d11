import type * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../common/errors.js';
import type { LogLine__Output, LogsRequest } from '../common/proto/types.js';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, isTerminal, isTransient } from './retry.js';
import { sleep } from '../common/sleep.js';

/** The two calls that log following needs; CoordinatorClient has them. */
export interface LogSource {
  logs(req: LogsRequest, deadlineMs: number): grpc.ClientReadableStream<LogLine__Output>;
  getSession(name: string, signal?: AbortSignal): Promise<{ state: string }>;
  toError(err: unknown): Error;
}

export interface FollowLogsOptions {
  name: string;
  /** Keep streaming until the session ends. */
  follow: boolean;
  /** Resume after this cursor (exclusive); default 0, the beginning. */
  fromCursor?: number;
  /** -1 (default) for every rank. */
  rank?: number;
  /** Begin at the last N lines stored (0, the default: at fromCursor). */
  tail?: number;
  onLine(line: LogLine__Output): void;
  signal?: AbortSignal;
  /** Deadline of one Logs stream; the follower resumes from its cursor when it passes. */
  streamDeadlineMs?: number;
  /** Give up after failing to reach the coordinator for this long; default 60 s. */
  giveUpAfterMs?: number;
  backoff?: BackoffOptions;
}

export interface FollowResult {
  /** The last cursor printed (0 when none). */
  cursor: number;
  lines: number;
  /** True when the caller aborted before the end. */
  aborted: boolean;
}

/**
 * Prints a session's logs, resuming from the last cursor whenever the stream breaks, so no line
 * is lost or shown twice. With `follow`, returns once the session has ended and every line
 * has arrived.
 */
export async function followLogs(source: LogSource, options: FollowLogsOptions): Promise<FollowResult> {
  const state = { cursor: options.fromCursor ?? 0, lines: 0 };
  const giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
  let failingSince: number | undefined;
  let attempt = 0;
  for (;;) {
    if (options.signal?.aborted) return { ...state, aborted: true };
    const before = state.lines;
    try {
      await streamOnce(source, options, state);
      if (!options.follow || isTerminal((await source.getSession(options.name, options.signal)).state)) {
        return { ...state, aborted: false };
      }
      // The stream ended before the session did (the coordinator restarting, say): resume.
      await sleep(backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF), options.signal);
      attempt = state.lines > before ? 0 : attempt + 1;
    } catch (err) {
      if (options.signal?.aborted) return { ...state, aborted: true };
      if (!isTransient(err)) throw source.toError(err);
      if (state.lines > before) {
        failingSince = undefined;
        attempt = 0;
      }
      failingSince ??= Date.now();
      if (Date.now() - failingSince > giveUpAfterMs) throw source.toError(err);
      await sleep(backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF), options.signal);
      attempt += 1;
    }
  }
}

function streamOnce(source: LogSource, options: FollowLogsOptions, state: { cursor: number; lines: number }): Promise<void> {
  const deadlineMs = options.streamDeadlineMs ?? (options.follow ? 600_000 : 120_000);
  const call = source.logs({ name: options.name, fromCursor: state.cursor, follow: options.follow, rank: options.rank ?? -1, tail: options.tail ?? 0 }, deadlineMs);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    call.on('data', (line: LogLine__Output) => {
      if (line.cursor > 0 && line.cursor <= state.cursor) return;
      if (line.cursor > 0) state.cursor = line.cursor;
      state.lines += 1;
      try {
        options.onLine(line);
      } catch (err) {
        call.cancel();
        settle(new Error(`printing a log line failed: ${errorMessage(err)}`));
      }
    });
    call.on('error', (err) => settle(err));
    call.on('end', () => settle());
  });
}

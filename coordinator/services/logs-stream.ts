import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { LogLine } from '../../common/proto/types.js';
import type { LogsRequest__Output } from '../../common/proto/generated/nsml/v1/LogsRequest.js';
import type { CoordinatorContext } from '../context.js';
import { isTerminal } from '../store/types.js';
import { sessionFor } from '../auth/session-access.js';
import { userOf } from './grpc-util.js';

const PAGE = 1000;

type LogsCall = grpc.ServerWritableStream<LogsRequest__Output, LogLine>;

function validate(ctx: CoordinatorContext, call: LogsCall): void {
  const req = call.request;
  sessionFor(ctx.store, userOf(ctx.auth, call.metadata), req.name, 'read');
  if (!Number.isSafeInteger(req.fromCursor) || req.fromCursor < 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `from_cursor must be 0 or a cursor from an earlier line; got ${req.fromCursor}`);
  }
  if (!Number.isSafeInteger(req.tail) || req.tail < 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `tail must be 0 (every line) or a number of lines; got ${req.tail}`);
  if (req.rank < -1) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `rank must be -1 (all ranks) or a rank number; got ${req.rank}`);
}

/** Writes one line, waiting while the client is slow; false when the call is gone. */
function write(call: LogsCall, line: LogLine, gone: AbortSignal): Promise<boolean> {
  if (gone.aborted) return Promise.resolve(false);
  if (call.write(line)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onDrain = () => finish(true);
    const onGone = () => finish(false);
    const finish = (ok: boolean) => {
      call.off('drain', onDrain);
      gone.removeEventListener('abort', onGone);
      resolve(ok);
    };
    call.on('drain', onDrain);
    gone.addEventListener('abort', onGone);
  });
}

/**
 * Logs: history after `from_cursor`, then (with follow) every new line, read back from the store
 * each time the hub says something changed, so no line is lost or repeated at the hand-off.
 * Ends once the session is terminal and every line stored before that has been sent.
 */
export async function streamLogs(ctx: CoordinatorContext, call: LogsCall): Promise<void> {
  try {
    validate(ctx, call);
  } catch (err) {
    call.emit('error', toServiceError(err));
    return;
  }
  const { name, rank, follow } = call.request;
  const gone = new AbortController();
  let dirty = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const offs = [ctx.hub.onLogs(name, poke), ctx.hub.onSession(name, poke)];
  const abort = () => {
    gone.abort();
    poke();
  };
  call.on('cancelled', abort);
  ctx.closing.addEventListener('abort', poke);
  const { fromCursor, tail } = call.request;
  let cursor = tail > 0 ? Math.max(fromCursor, ctx.store.logTailStart(name, rank, tail)) : fromCursor;
  try {
    for (;;) {
      dirty = false;
      const ended = !follow || ctx.closing.aborted || isTerminal(ctx.store.getSession(name)?.state ?? 'lost');
      for (;;) {
        const rows = ctx.store.readLogs(name, cursor, rank, PAGE);
        for (const r of rows) {
          if (!(await write(call, { cursor: r.cursor, rank: r.rank, seq: r.seq, tsMs: r.tsMs, stream: r.stream, text: r.text }, gone.signal))) return;
          cursor = r.cursor;
        }
        if (rows.length < PAGE) break;
      }
      if (ended || gone.signal.aborted) break;
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (!gone.signal.aborted) call.end();
  } finally {
    for (const off of offs) off();
    ctx.closing.removeEventListener('abort', poke);
  }
}

import { checkControlBody } from '../../common/control-command.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { SessionServiceHandlers } from '../../common/proto/types.js';
import { toControlResult } from '../commands/command-proto.js';
import type { CoordinatorContext } from '../context.js';
import { sessionFor } from '../auth/session-access.js';
import { unary, userOf } from './grpc-util.js';

export const DEFAULT_CONTROL_TIMEOUT_MS = 30_000;
export const MAX_CONTROL_TIMEOUT_MS = 600_000;

function parseArgs(json: string): unknown {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `args_json must be a JSON object, e.g. {"values":{"lr":"0.01"}}: ${errorMessage(err)}`, { cause: err });
  }
}

function timeoutOf(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `timeout_ms must be 0 (the default, 30 s) or up to ${MAX_CONTROL_TIMEOUT_MS} milliseconds; got ${ms}`);
  }
  return ms === 0 ? DEFAULT_CONTROL_TIMEOUT_MS : Math.min(ms, MAX_CONTROL_TIMEOUT_MS);
}

/** SessionService.Control: persist an operator command, send it, wait for its result. */
export function controlHandlers(ctx: CoordinatorContext): Pick<SessionServiceHandlers, 'Control'> {
  return {
    Control: unary(async (req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const session = sessionFor(ctx.store, caller, req.name, 'control');
      const user = caller.user;
      const body = checkControlBody(req.command, parseArgs(req.argsJson));
      const timeoutMs = timeoutOf(req.timeoutMs);
      const cmd = ctx.commands.submit(session, user, body);
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      await ctx.commands.wait(cmd.id, timeoutMs, AbortSignal.any([cancelled.signal, ctx.closing]));
      return toControlResult(ctx.commands.view(cmd.id)!);
    }),
  };
}

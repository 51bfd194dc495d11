import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { GcReport } from '../../common/proto/types.js';
import type { GcRequest__Output } from '../../common/proto/generated/nsml/v1/GcRequest.js';
import type { CoordinatorContext } from '../context.js';
import { callerOf, unary } from './grpc-util.js';

/**
 * The caller, when an admin: a user named by the coordinator's `admins` option (default: the
 * user running it). Users are trusted names until `nsml login` exists, so this keeps honest
 * users from an admin command by mistake; it is not a security boundary yet.
 */
export function requireAdmin(ctx: CoordinatorContext, metadata: Parameters<typeof callerOf>[0], what: string): string {
  const user = callerOf(metadata);
  if (!ctx.options.admins.includes(user)) {
    throw new NsmlError(
      ErrorCodes.PERMISSION_DENIED,
      `${what} is for admins; ${user} is not one (admins: ${ctx.options.admins.join(', ')}); ask one, or start the coordinator with --admins`,
      { details: { user } },
    );
  }
  return user;
}

/** AdminService.CollectGarbage: one collection now (or a dry run), answered with its report. */
export function collectGarbageHandler(ctx: CoordinatorContext) {
  return unary<GcRequest__Output, GcReport>(async (req, call) => {
    requireAdmin(ctx, call.metadata, 'collecting garbage (`nsml admin gc`)');
    return ctx.gc.collect({ dryRun: req.dryRun });
  });
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { GcReport } from '../../common/proto/types.js';
import type { GcRequest__Output } from '../../common/proto/generated/nsml/v1/GcRequest.js';
import type { CoordinatorContext } from '../context.js';
import { adminOf, unary } from './grpc-util.js';

/** AdminService.CollectGarbage: one collection now (or a dry run), answered with its report. */
export function collectGarbageHandler(ctx: CoordinatorContext) {
  return unary<GcRequest__Output, GcReport>(async (req, call) => {
    adminOf(ctx.auth, call.metadata, 'collecting garbage (`nsml admin gc`)');
    return ctx.gc.collect({ dryRun: req.dryRun });
  });
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { RemoveSessionResponse } from '../../common/proto/types.js';
import type { SessionRef__Output } from '../../common/proto/generated/nsml/v1/SessionRef.js';
import type { CoordinatorContext } from '../context.js';
import { isTerminal } from '../store/types.js';
import { findSession } from './find-session.js';
import { callerOf, unary } from './grpc-util.js';

/**
 * SessionService.Remove (`nsml rm`): an ended session of the caller's (an admin's: anyone's)
 * goes with everything recorded under its name, in one transaction; its blobs are left to the
 * blob collection. Checked again inside the transaction, so a session cannot restart in between.
 */
export function removeSessionHandler(ctx: CoordinatorContext) {
  return unary<SessionRef__Output, RemoveSessionResponse>((req, call) => {
    const user = callerOf(call.metadata);
    findSession(ctx, req.name);
    const removed = ctx.store.transaction(() => {
      const s = findSession(ctx, req.name);
      if (s.user !== user && !ctx.options.admins.includes(user)) {
        throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `session ${s.name} belongs to ${s.user}; ${user} may remove only their own sessions`, {
          details: { session: s.name, owner: s.user },
        });
      }
      if (!isTerminal(s.state) || s.state === 'preempted') {
        throw new NsmlError(ErrorCodes.SESSION_ACTIVE, `session ${s.name} is ${s.state}; stop it first (\`nsml stop ${s.name}\`), wait until it ends, then remove it`, {
          details: { session: s.name, state: s.state },
        });
      }
      return ctx.store.removeSession(s.name);
    });
    ctx.options.logger.info('session removed', { session: req.name, by: user, ...removed });
    return { name: req.name, ...removed };
  });
}

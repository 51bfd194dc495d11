import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { RemoveSessionResponse } from '../../common/proto/types.js';
import type { SessionRef__Output } from '../../common/proto/generated/nsml/v1/SessionRef.js';
import type { CoordinatorContext } from '../context.js';
import { isTerminal } from '../store/types.js';
import { sessionFor } from '../auth/session-access.js';
import { unary, userOf } from './grpc-util.js';

/**
 * SessionService.Remove (`nsml rm`): an ended session of the caller's (an admin's: anyone's)
 * goes with everything recorded under its name, in one transaction; its blobs are left to the
 * blob collection. Checked again inside the transaction, so a session cannot restart in between.
 */
export function removeSessionHandler(ctx: CoordinatorContext) {
  return unary<SessionRef__Output, RemoveSessionResponse>((req, call) => {
    const caller = userOf(ctx.auth, call.metadata);
    const user = caller.user;
    sessionFor(ctx.store, caller, req.name, 'own');
    const removed = ctx.store.transaction(() => {
      const s = sessionFor(ctx.store, caller, req.name, 'own');
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

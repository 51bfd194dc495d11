import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateUser } from '../../common/names.js';
import type { ShareSessionResponse } from '../../common/proto/types.js';
import type { ShareSessionRequest__Output } from '../../common/proto/generated/nsml/v1/ShareSessionRequest.js';
import { sessionFor } from '../auth/session-access.js';
import type { ShareRole } from '../auth/user-table.js';
import type { CoordinatorContext } from '../context.js';
import { unary, userOf } from './grpc-util.js';

function roleOf(role: string): ShareRole {
  if (role === '' || role === 'read') return 'read';
  if (role === 'control') return 'control';
  throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `role must be read or control; got ${JSON.stringify(role.slice(0, 40))}`);
}

/** SessionService.Share (`nsml share SESSION USER [--control] [--revoke]`): owner or admin. */
export function shareHandler(ctx: CoordinatorContext) {
  return unary<ShareSessionRequest__Output, ShareSessionResponse>((req, call) => {
    const caller = userOf(ctx.auth, call.metadata);
    const s = sessionFor(ctx.store, caller, req.name, 'own');
    if (req.user !== '') {
      const user = validateUser(req.user);
      if (!ctx.store.users.get(user)) {
        throw new NsmlError(ErrorCodes.NOT_FOUND, `no user named ${user}; an admin adds users with \`nsml user add ${user}\``, { details: { user } });
      }
      if (user === s.user) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${user} owns ${s.name} already`);
      if (req.revoke) ctx.store.users.unshare(s.name, user);
      else ctx.store.users.share({ session: s.name, user, role: roleOf(req.role), createdMs: ctx.options.clock.now() });
      ctx.options.logger.info(req.revoke ? 'session share revoked' : 'session shared', { session: s.name, with: user, by: caller.user });
    }
    return {
      name: s.name,
      owner: s.user,
      shares: ctx.store.users.sharesOf(s.name).map((r) => ({ user: r.user, role: r.role, createdMs: r.createdMs })),
    };
  });
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateUser } from '../../common/names.js';
import type { TokenInfo, UserServiceHandlers } from '../../common/proto/types.js';
import type { Caller } from '../auth/caller.js';
import { issueToken } from '../auth/token-issuer.js';
import type { TokenRow } from '../auth/user-table.js';
import type { CoordinatorContext } from '../context.js';
import { adminOf, unary, userOf } from './grpc-util.js';

function tokenInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id, user: r.user, hint: r.hint, label: r.label, createdMs: r.createdMs,
    expiresMs: r.expiresMs, revokedMs: r.revokedMs, lastUsedMs: r.lastUsedMs,
  };
}

/** `user` when the caller may manage their tokens: themselves, or anyone for an admin. */
function tokenOwner(ctx: CoordinatorContext, caller: Caller, requested: string): string {
  const user = requested === '' ? caller.user : validateUser(requested);
  if (user !== caller.user && !caller.admin) {
    throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `${caller.user} may manage only their own tokens; an admin manages ${user}'s`);
  }
  if (!ctx.store.users.get(user)) throw new NsmlError(ErrorCodes.NOT_FOUND, `no user named ${user}; list them with \`nsml user ls\``);
  return user;
}

/** UserService (proto/nsml/v1/user.proto): who am I, users (admins), tokens. */
export function userService(ctx: CoordinatorContext): UserServiceHandlers {
  const users = ctx.store.users;
  const now = () => ctx.options.clock.now();
  return {
    WhoAmI: unary((_req, call) => {
      const c = ctx.auth.caller(call.metadata);
      return { user: c.user, admin: c.admin, node: c.node ?? '' };
    }),
    AddUser: unary((req, call) => {
      const admin = adminOf(ctx.auth, call.metadata, 'adding users (`nsml user add`)');
      const name = validateUser(req.name);
      const { issued, created } = ctx.store.transaction(() => {
        const { created } = users.ensure(name, req.admin, now(), admin.user);
        return { created, issued: issueToken(users, { user: name, label: created ? 'first token' : 'added by an admin', expiresInMs: Number(req.expiresInMs) }, now()) };
      });
      ctx.options.logger.info(created ? 'user added' : 'user token issued', { user: name, admin: req.admin, by: admin.user });
      return { user: name, token: issued.token, info: tokenInfo(issued.row), created };
    }),
    ListUsers: unary((_req, call) => {
      adminOf(ctx.auth, call.metadata, 'listing users (`nsml user ls`)');
      return { users: users.list().map((u) => ({ name: u.name, admin: u.admin, createdMs: u.createdMs, createdBy: u.createdBy })) };
    }),
    CreateToken: unary((req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const user = tokenOwner(ctx, caller, req.user);
      const issued = issueToken(users, { user, label: req.label, expiresInMs: Number(req.expiresInMs) }, now());
      ctx.options.logger.info('token created', { user, id: issued.row.id, by: caller.user });
      return { user, token: issued.token, info: tokenInfo(issued.row), created: false };
    }),
    ListTokens: unary((req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      return { tokens: users.tokensOf(tokenOwner(ctx, caller, req.user)).map(tokenInfo) };
    }),
    RevokeToken: unary((req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const row = typeof req.id === 'string' && /^t-[0-9a-f]{12}$/.test(req.id) ? users.token(req.id) : undefined;
      if (!row || (row.user !== caller.user && !caller.admin)) {
        throw new NsmlError(ErrorCodes.NOT_FOUND, `no token ${JSON.stringify(String(req.id).slice(0, 40))} of yours; list them with \`nsml token ls\``);
      }
      users.revokeToken(row.id, now());
      ctx.options.logger.info('token revoked', { user: row.user, id: row.id, by: caller.user });
      return tokenInfo(users.token(row.id)!);
    }),
  };
}

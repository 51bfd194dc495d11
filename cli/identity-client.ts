import type {
  IssuedToken__Output, ListTokensResponse__Output, ListUsersResponse__Output, ShareSessionResponse__Output, TokenInfo__Output,
} from '../common/proto/types.js';
import type { CoordinatorClient } from './client.js';
import { parseDuration } from './duration.js';
import { usageError } from './flags.js';

/** `--expires DURATION` in ms; absent: 0 (never). Zero is refused: a token that expires at once is a mistake. */
export function expiresFlag(text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = parseDuration(text, '--expires');
  if (ms <= 0) throw usageError(`--expires must be longer than 0 (leave it out for a token that never expires); got ${JSON.stringify(text)}`);
  return ms;
}

/** The UserService calls and SessionService.Share, with the client's token (cli/commands/{user,token,share}.ts). */
export const identity = {
  addUser: (c: CoordinatorClient, name: string, admin: boolean, expiresInMs: number, signal?: AbortSignal) =>
    c.unary<IssuedToken__Output>((md, o, cb) => c.users.AddUser({ name, admin, expiresInMs }, md, o, cb), undefined, signal),
  listUsers: (c: CoordinatorClient, signal?: AbortSignal) =>
    c.unary<ListUsersResponse__Output>((md, o, cb) => c.users.ListUsers({}, md, o, cb), undefined, signal).then((r) => r.users),
  createToken: (c: CoordinatorClient, req: { label: string; expiresInMs: number; user: string }, signal?: AbortSignal) =>
    c.unary<IssuedToken__Output>((md, o, cb) => c.users.CreateToken(req, md, o, cb), undefined, signal),
  listTokens: (c: CoordinatorClient, user: string, signal?: AbortSignal) =>
    c.unary<ListTokensResponse__Output>((md, o, cb) => c.users.ListTokens({ user }, md, o, cb), undefined, signal).then((r) => r.tokens),
  revokeToken: (c: CoordinatorClient, id: string, signal?: AbortSignal) =>
    c.unary<TokenInfo__Output>((md, o, cb) => c.users.RevokeToken({ id }, md, o, cb), undefined, signal),
  share: (c: CoordinatorClient, req: { name: string; user: string; role: string; revoke: boolean }, signal?: AbortSignal) =>
    c.unary<ShareSessionResponse__Output>((md, o, cb) => c.sessions.Share(req, md, o, cb), undefined, signal),
};

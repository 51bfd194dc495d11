import type * as grpc from '@grpc/grpc-js';
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { AUTH_KEY, SESSION_KEY } from '../../common/grpc/options.js';
import { hashToken, tokenKind } from '../../common/auth/token.js';
import type { Store } from '../store/types.js';
import type { Caller } from './caller.js';

/** How often a token's last-used time is written (a read per call, a write at most this often). */
const TOUCH_EVERY_MS = 60_000;

function unauthenticated(message: string): NsmlError {
  return new NsmlError(ErrorCodes.UNAUTHENTICATED, message);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The bearer token in `authorization` metadata, or '' when the call carries none. */
export function bearerOf(metadata: grpc.Metadata): string {
  const value = metadata.get(AUTH_KEY)[0];
  if (typeof value !== 'string' || value === '') return '';
  const m = /^Bearer\s+(\S+)$/i.exec(value.trim());
  if (!m) throw unauthenticated(`the ${AUTH_KEY} metadata must be "Bearer TOKEN"; log in with \`nsml login\``);
  return m[1]!;
}

/**
 * Turns a call's token into its Caller. Every lookup reads the state, so a revoked or expired
 * token is refused at its next call (no cache to outlive a revocation). Tokens are found by
 * their SHA-256 and the stored hash is compared again in constant time.
 */
export class Authenticator {
  private readonly touched = new Map<string, number>();

  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  /** The caller, or NSML_E_UNAUTHENTICATED (no token, malformed, unknown, revoked, expired). */
  caller(metadata: grpc.Metadata): Caller {
    const token = bearerOf(metadata);
    if (token === '') throw unauthenticated('this call needs a token: log in with `nsml login` (or set NSML_TOKEN)');
    const kind = tokenKind(token);
    if (!kind) throw unauthenticated('the token is not a well-formed nsml token (wrong prefix, length or checksum); copy it again or log in with `nsml login`');
    const hash = hashToken(token);
    return kind === 'node' ? this.nodeCaller(hash, metadata) : this.userCaller(hash);
  }

  private userCaller(hash: string): Caller {
    const { store, clock } = this.deps;
    const row = store.users.tokenByHash(hash);
    if (!row || !sameHex(row.hash, hash)) throw unauthenticated('the token is not known to this coordinator (revoked, or issued by another one); log in again with `nsml login`');
    const now = clock.now();
    if (row.revokedMs > 0) throw unauthenticated(`the token ${row.hint} was revoked; log in with a new one (an admin gives it with \`nsml token create\` or \`nsml user add\`)`);
    if (row.expiresMs > 0 && now >= row.expiresMs) {
      throw unauthenticated(`the token ${row.hint} expired at ${new Date(row.expiresMs).toISOString()}; create a new one with \`nsml token create\` and \`nsml login\``);
    }
    const user = store.users.get(row.user);
    if (!user) throw unauthenticated(`the token ${row.hint} belongs to no user any more; log in again`);
    if (now - (this.touched.get(row.id) ?? row.lastUsedMs) >= TOUCH_EVERY_MS) {
      this.touched.set(row.id, now);
      store.users.touchToken(row.id, now);
    }
    return { user: user.name, admin: user.admin };
  }

  private nodeCaller(hash: string, metadata: grpc.Metadata): Caller {
    const { store } = this.deps;
    const node = store.nodeBySecretHash(hash);
    if (!node) throw unauthenticated('the node credential is not known to this coordinator (the node was forgotten, or joined another one); restart the agent with the join token');
    const session = metadata.get(SESSION_KEY)[0];
    if (typeof session !== 'string' || session === '') return { user: '', admin: false, node };
    const row = store.getSession(session);
    const placed = row !== undefined && row.epoch > 0 && store.assignments(session, row.epoch).some((a) => a.nodeId === node);
    if (!row || !placed) {
      throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `node ${node} calls for session ${session.slice(0, 200)}, which is not placed on it`);
    }
    return { user: row.user, admin: false, node, session };
  }
}

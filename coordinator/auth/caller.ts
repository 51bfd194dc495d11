/**
 * Who made a call, once its token was checked (coordinator/auth/authenticator.ts).
 *
 * - a user: `user` is their name, `admin` whether they may do everything;
 * - an agent acting for a session placed on its node: `node` and `session` are set and `user`
 *   is the session's owner (never admin): it may do what that user may, on their behalf;
 * - an agent on its own: `node` is set, `user` is '' (it may fetch the blobs of the sessions
 *   placed on its node, nothing else).
 */
export interface Caller {
  readonly user: string;
  readonly admin: boolean;
  readonly node?: string;
  readonly session?: string;
}

export function describeCaller(c: Caller): string {
  if (c.node && c.session) return `node ${c.node} (for session ${c.session})`;
  if (c.node) return `node ${c.node}`;
  return c.admin ? `${c.user} (admin)` : c.user;
}

import type Database from 'better-sqlite3';

export interface UserRow {
  name: string;
  admin: boolean;
  createdMs: number;
  createdBy: string;
}

export interface TokenRow {
  id: string;
  user: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  /** The token's first characters (`nsmlu_AbC4…`), to recognise it in a listing. */
  hint: string;
  label: string;
  createdMs: number;
  /** 0: never. */
  expiresMs: number;
  /** 0: not revoked. */
  revokedMs: number;
  lastUsedMs: number;
}

export type ShareRole = 'read' | 'control';

export interface ShareRow {
  session: string;
  user: string;
  role: ShareRole;
  createdMs: number;
}

/**
 * Users, tokens, session shares and blob uploaders in the coordinator's SQLite state. Plain
 * reads and writes; the rules live in coordinator/auth (authenticator.ts, session-access.ts,
 * blob-access.ts).
 */
export interface UserTable {
  get(name: string): UserRow | undefined;
  list(): UserRow[];
  count(): number;
  /** Inserts the user, or makes an existing one admin when `admin`; returns the row. */
  ensure(name: string, admin: boolean, nowMs: number, createdBy: string): { row: UserRow; created: boolean };
  setAdmin(name: string, admin: boolean): void;

  insertToken(row: TokenRow): void;
  tokenByHash(hash: string): TokenRow | undefined;
  tokensOf(user: string): TokenRow[];
  token(id: string): TokenRow | undefined;
  revokeToken(id: string, nowMs: number): void;
  revokeTokensOf(user: string, nowMs: number): number;
  touchToken(id: string, nowMs: number): void;

  share(row: ShareRow): void;
  unshare(session: string, user: string): boolean;
  sharesOf(session: string): ShareRow[];
  /** The role `user` was given on `session`, if any. */
  shareRole(session: string, user: string): ShareRole | undefined;
  /** Names of the sessions shared with `user`. */
  sharedWith(user: string): string[];

  recordUpload(hashes: readonly string[], user: string): void;
  uploaded(hash: string, user: string): boolean;
}

interface UserRecord { name: string; admin: number; created_ms: number; created_by: string }
interface TokenRecord {
  id: string; user: string; hash: string; hint: string; label: string;
  created_ms: number; expires_ms: number; revoked_ms: number; last_used_ms: number;
}
interface ShareRecord { session: string; user: string; role: string; created_ms: number }

const userOf = (r: UserRecord): UserRow => ({ name: r.name, admin: r.admin === 1, createdMs: r.created_ms, createdBy: r.created_by });
const tokenOf = (r: TokenRecord): TokenRow => ({
  id: r.id, user: r.user, hash: r.hash, hint: r.hint, label: r.label, createdMs: r.created_ms,
  expiresMs: r.expires_ms, revokedMs: r.revoked_ms, lastUsedMs: r.last_used_ms,
});
const shareOf = (r: ShareRecord): ShareRow => ({ session: r.session, user: r.user, role: r.role === 'control' ? 'control' : 'read', createdMs: r.created_ms });

export function userTable(db: Database.Database): UserTable {
  const q = {
    get: db.prepare('SELECT * FROM users WHERE name = ?'),
    list: db.prepare('SELECT * FROM users ORDER BY name'),
    count: db.prepare('SELECT COUNT(*) AS n FROM users'),
    insert: db.prepare('INSERT INTO users (name, admin, created_ms, created_by) VALUES (?, ?, ?, ?)'),
    setAdmin: db.prepare('UPDATE users SET admin = ? WHERE name = ?'),
    insertToken: db.prepare(
      `INSERT INTO tokens (id, user, hash, hint, label, created_ms, expires_ms, revoked_ms, last_used_ms)
       VALUES (@id, @user, @hash, @hint, @label, @createdMs, @expiresMs, @revokedMs, @lastUsedMs)`,
    ),
    tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ?'),
    tokensOf: db.prepare('SELECT * FROM tokens WHERE user = ? ORDER BY created_ms, id'),
    token: db.prepare('SELECT * FROM tokens WHERE id = ?'),
    revoke: db.prepare('UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0'),
    revokeAll: db.prepare('UPDATE tokens SET revoked_ms = ? WHERE user = ? AND revoked_ms = 0'),
    touch: db.prepare('UPDATE tokens SET last_used_ms = ? WHERE id = ?'),
    share: db.prepare(
      `INSERT INTO session_shares (session, user, role, created_ms) VALUES (@session, @user, @role, @createdMs)
       ON CONFLICT (session, user) DO UPDATE SET role = excluded.role`,
    ),
    unshare: db.prepare('DELETE FROM session_shares WHERE session = ? AND user = ?'),
    sharesOf: db.prepare('SELECT * FROM session_shares WHERE session = ? ORDER BY user'),
    shareRole: db.prepare('SELECT role FROM session_shares WHERE session = ? AND user = ?'),
    sharedWith: db.prepare('SELECT session FROM session_shares WHERE user = ? ORDER BY session'),
    upload: db.prepare('INSERT OR IGNORE INTO blob_uploads (hash, user) VALUES (?, ?)'),
    uploaded: db.prepare('SELECT 1 FROM blob_uploads WHERE hash = ? AND user = ?'),
  };
  const recordUpload = db.transaction((hashes: readonly string[], user: string) => {
    for (const h of hashes) q.upload.run(h, user);
  });
  return {
    get: (name) => {
      const r = q.get.get(name) as UserRecord | undefined;
      return r && userOf(r);
    },
    list: () => (q.list.all() as UserRecord[]).map(userOf),
    count: () => (q.count.get() as { n: number }).n,
    ensure: (name, admin, nowMs, createdBy) => {
      const prior = q.get.get(name) as UserRecord | undefined;
      if (prior) {
        if (admin && prior.admin !== 1) q.setAdmin.run(1, name);
        return { row: userOf({ ...prior, admin: admin ? 1 : prior.admin }), created: false };
      }
      q.insert.run(name, admin ? 1 : 0, nowMs, createdBy);
      return { row: { name, admin, createdMs: nowMs, createdBy }, created: true };
    },
    setAdmin: (name, admin) => void q.setAdmin.run(admin ? 1 : 0, name),
    insertToken: (row) => void q.insertToken.run(row),
    tokenByHash: (hash) => {
      const r = q.tokenByHash.get(hash) as TokenRecord | undefined;
      return r && tokenOf(r);
    },
    tokensOf: (user) => (q.tokensOf.all(user) as TokenRecord[]).map(tokenOf),
    token: (id) => {
      const r = q.token.get(id) as TokenRecord | undefined;
      return r && tokenOf(r);
    },
    revokeToken: (id, nowMs) => void q.revoke.run(nowMs, id),
    revokeTokensOf: (user, nowMs) => q.revokeAll.run(nowMs, user).changes,
    touchToken: (id, nowMs) => void q.touch.run(nowMs, id),
    share: (row) => void q.share.run(row),
    unshare: (session, user) => q.unshare.run(session, user).changes > 0,
    sharesOf: (session) => (q.sharesOf.all(session) as ShareRecord[]).map(shareOf),
    shareRole: (session, user) => {
      const r = q.shareRole.get(session, user) as { role: string } | undefined;
      return r ? (r.role === 'control' ? 'control' : 'read') : undefined;
    },
    sharedWith: (user) => (q.sharedWith.all(user) as Array<{ session: string }>).map((r) => r.session),
    recordUpload: (hashes, user) => recordUpload(hashes, user),
    uploaded: (hash, user) => q.uploaded.get(hash, user) !== undefined,
  };
}

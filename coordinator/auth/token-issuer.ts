import { randomBytes } from 'node:crypto';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { hashToken, mintToken, tokenHint } from '../../common/auth/token.js';
import type { TokenRow, UserTable } from './user-table.js';

/** Longest a token may be asked to live (10 years); 0 means it never expires. */
export const MAX_TOKEN_LIFETIME_MS = 10 * 365 * 24 * 3600_000;
const MAX_LABEL = 100;

export interface IssueTokenInput {
  user: string;
  label?: string;
  /** 0: never expires. */
  expiresInMs?: number;
}

/** A new user token: only its hash is stored; the token itself is returned once. */
export function issueToken(users: UserTable, input: IssueTokenInput, nowMs: number): { token: string; row: TokenRow } {
  const expiresIn = input.expiresInMs ?? 0;
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 0 || expiresIn > MAX_TOKEN_LIFETIME_MS) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `a token's lifetime must be 0 (never expires) up to ${MAX_TOKEN_LIFETIME_MS} ms (10 years); got ${expiresIn}`);
  }
  const label = input.label ?? '';
  if (label.length > MAX_LABEL || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `a token label is at most ${MAX_LABEL} printable characters; got ${label.length}`);
  }
  const token = mintToken('user');
  const row: TokenRow = {
    id: `t-${randomBytes(6).toString('hex')}`,
    user: input.user,
    hash: hashToken(token),
    hint: tokenHint(token),
    label,
    createdMs: nowMs,
    expiresMs: expiresIn > 0 ? nowMs + expiresIn : 0,
    revokedMs: 0,
    lastUsedMs: 0,
  };
  users.insertToken(row);
  return { token, row };
}

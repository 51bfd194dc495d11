import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ErrorCodes, NsmlError } from '../errors.js';

/**
 * nsml tokens, shaped like GitHub's: a type prefix, 30 random base62 characters, and a 6
 * character base62 CRC-32 of the rest. The prefix says what a leaked token grants (secret
 * scanners match `nsml[un]_[0-9A-Za-z]{36}`), the checksum lets a client or scanner tell a
 * token from a typo without asking the coordinator. Only the SHA-256 of a token is stored.
 */
export const TOKEN_KINDS = {
  /** A user's token: `nsml login`, `nsml token create`, `nsml user add`. */
  user: 'nsmlu_',
  /** A node's credential, issued at its first registration. */
  node: 'nsmln_',
} as const;

export type TokenKind = keyof typeof TOKEN_KINDS;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 30;
const CHECK_CHARS = 6;
const TOKEN_BODY = new RegExp(`^[0-9A-Za-z]{${RANDOM_CHARS + CHECK_CHARS}}$`);

function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  for (let i = 0; i < width; i += 1) {
    out = ALPHABET[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out;
}

function checksum(prefixAndRandom: string): string {
  return base62(crc32(prefixAndRandom), CHECK_CHARS);
}

/** A fresh token of this kind (about 178 random bits). */
export function mintToken(kind: TokenKind): string {
  const bytes = randomBytes(RANDOM_CHARS * 2);
  let random = '';
  for (const b of bytes) {
    if (b >= 248) continue; // 248 = 62 * 4: keeps the characters uniform
    random += ALPHABET[b % 62];
    if (random.length === RANDOM_CHARS) break;
  }
  if (random.length < RANDOM_CHARS) return mintToken(kind);
  const head = TOKEN_KINDS[kind] + random;
  return head + checksum(head);
}

/** The kind of a well-formed token, or undefined (wrong prefix, length, characters or checksum). */
export function tokenKind(token: string): TokenKind | undefined {
  for (const [kind, prefix] of Object.entries(TOKEN_KINDS) as Array<[TokenKind, string]>) {
    if (!token.startsWith(prefix)) continue;
    const body = token.slice(prefix.length);
    if (!TOKEN_BODY.test(body)) return undefined;
    const head = token.slice(0, token.length - CHECK_CHARS);
    return checksum(head) === token.slice(-CHECK_CHARS) ? kind : undefined;
  }
  return undefined;
}

/** The token, when well formed; NSML_E_UNAUTHENTICATED otherwise (the token is never echoed). */
export function parseToken(token: string, where: string): { token: string; kind: TokenKind } {
  const trimmed = token.trim();
  const kind = tokenKind(trimmed);
  if (!kind) {
    throw new NsmlError(
      ErrorCodes.UNAUTHENTICATED,
      `the token from ${where} is not an nsml token (expected nsmlu_ and 36 letters and digits, ${trimmed.length} characters given, checksum ${trimmed.length > 6 ? 'wrong' : 'missing'}); copy it again, or ask an admin for a new one (\`nsml user add NAME\` or \`nsml token create --user NAME\`)`,
    );
  }
  return { token: trimmed, kind };
}

/** What is stored instead of a token: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The first characters of a token, safe to show in listings (`nsmlu_AbC4…`). */
export function tokenHint(token: string): string {
  const prefix = Object.values(TOKEN_KINDS).find((p) => token.startsWith(p)) ?? '';
  return `${token.slice(0, prefix.length + 4)}…`;
}

import { createHash } from 'node:crypto';

/** The longest account name that useradd, ps and most NSS back ends handle everywhere. */
export const MAX_ACCOUNT_NAME = 32;

/** The prefix of every account the agent creates; such accounts are the agent's alone. */
export const ACCOUNT_PREFIX = 'nsml-';

/**
 * The Unix account that runs nsml user `user`'s sessions when the agent creates accounts:
 *
 * - `nsml-<user>` when the user name is already a portable Unix name (lowercase letters,
 *   digits and '-', starting with a letter or digit) and the whole fits in 32 characters;
 * - otherwise `nsml-<cleaned prefix>_<12 hex of sha256(user)>`: upper case is folded, any
 *   other character becomes '-', the prefix is cut to fit 32 characters.
 *
 * Two nsml users never share an account: a plain name holds no '_', a hashed name always
 * does, and hashed names differ by their hash (`Alice` and `alice` get different accounts).
 */
export function accountNameFor(user: string, prefix = ACCOUNT_PREFIX): string {
  const plain = `${prefix}${user}`;
  if (/^[a-z0-9][a-z0-9-]*$/.test(user) && plain.length <= MAX_ACCOUNT_NAME) return plain;
  const hash = createHash('sha256').update(user).digest('hex').slice(0, 12);
  const room = MAX_ACCOUNT_NAME - prefix.length - 1 - hash.length;
  const cleaned = user.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, Math.max(0, room));
  return `${prefix}${cleaned}_${hash}`;
}

/** A name useradd accepts on every distribution: `^[a-z_][a-z0-9_-]*$`, at most 32. */
export function isPortableAccountName(name: string): boolean {
  return name.length <= MAX_ACCOUNT_NAME && /^[a-z_][a-z0-9_-]*$/.test(name);
}

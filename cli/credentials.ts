import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-write.js';
import { join } from 'node:path';
import { nsmlHome } from '../common/config.js';
import { ErrorCodes, NsmlError, errorMessage } from '../common/errors.js';

/** One coordinator's login: its token and, when known, whose it is. */
export interface Credential {
  token: string;
  /** The user the token belongs to ('' when it came from NSML_TOKEN and was not asked yet). */
  user: string;
  /** Where it came from, for messages: `NSML_TOKEN` or the credentials file. */
  source: string;
}

interface CredentialsFile {
  version: 1;
  coordinators: Record<string, { token: string; user: string }>;
}

/** `$NSML_HOME/credentials`: JSON, mode 600, one entry per coordinator address. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(nsmlHome(env), 'credentials');
}

function readFile(path: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { version: 1, coordinators: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    if (typeof parsed.coordinators !== 'object' || parsed.coordinators === null) throw new Error('no "coordinators" object');
    return { version: 1, coordinators: parsed.coordinators };
  } catch (err) {
    throw new NsmlError(ErrorCodes.CONFIG, `${path} is not a credentials file (${errorMessage(err)}); remove it and log in again with \`nsml login\``, { cause: err });
  }
}

/** The token for `address`: NSML_TOKEN when set, else the credentials file's entry, else undefined. */
export function loadCredential(address: string, env: NodeJS.ProcessEnv = process.env): Credential | undefined {
  const fromEnv = env.NSML_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, user: '', source: 'NSML_TOKEN' };
  const path = credentialsPath(env);
  const entry = readFile(path).coordinators[address];
  return entry && typeof entry.token === 'string' ? { token: entry.token, user: typeof entry.user === 'string' ? entry.user : '', source: path } : undefined;
}

/** Keeps `token` for `address` (replacing an older one), in a file only its owner can read. */
export function saveCredential(address: string, token: string, user: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = credentialsPath(env);
  mkdirSync(nsmlHome(env), { recursive: true, mode: 0o700 });
  const file = readFile(path);
  file.coordinators[address] = { token, user };
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  return path;
}

/** Forgets the token for `address`; false when there was none. */
export function removeCredential(address: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = credentialsPath(env);
  const file = readFile(path);
  if (!(address in file.coordinators)) return false;
  delete file.coordinators[address];
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  return true;
}

import { createHash } from 'node:crypto';
import type { Requirements } from './declaration.js';
import type { Interpreter } from './interpreters.js';

/**
 * The cache key of an environment: the hash of the declarations' text and the interpreter's
 * version and path (12 hex digits, shown in the session log). Two sessions that declare the same
 * packages for the same Python share one environment. Local paths a requirement names (`./pkg`)
 * are keyed by their name, not their content: change requirements.txt to rebuild. On a node
 * that runs users apart, `owner` (the session's Unix account) is part of the key: an environment
 * is built by, and only ever used by, one user's sessions, so that what one user's install ran
 * (a package's build code) can never end up in another user's process.
 */
export function envKey(req: Requirements, python: Interpreter, owner?: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, declaration: req.fingerprint, python: python.path, version: python.version, ...(owner ? { owner } : {}) }))
    .digest('hex')
    .slice(0, 12);
}

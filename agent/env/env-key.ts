import { createHash } from 'node:crypto';
import type { Requirements } from './declaration.js';
import type { Interpreter } from './interpreters.js';

/**
 * The cache key of an environment: the hash of the declarations' text and the interpreter's
 * version and path (12 hex digits, shown in the session log). Two sessions that declare the same
 * packages for the same Python share one environment. Local paths a requirement names (`./pkg`)
 * are keyed by their name, not their content: change requirements.txt to rebuild.
 */
export function envKey(req: Requirements, python: Interpreter): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, declaration: req.fingerprint, python: python.path, version: python.version }))
    .digest('hex')
    .slice(0, 12);
}

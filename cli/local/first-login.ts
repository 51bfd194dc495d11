import { readFileSync } from 'node:fs';
import { osUser } from '../../common/config.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { adminTokenPath } from '../../coordinator/auth/bootstrap.js';
import { saveCredential } from '../credentials.js';
import type { LocalPaths } from './paths.js';

/**
 * `nsml up` logs the CLI in as the first admin (the OS user) with the token the coordinator
 * keeps in `<data>/admin-token`: nobody types a token on a laptop.
 */
export function logInAsFirstAdmin(paths: LocalPaths, address: string, env: NodeJS.ProcessEnv): void {
  const path = adminTokenPath(paths.coordinatorData);
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new NsmlError(ErrorCodes.STATE_DIR, `the coordinator of \`nsml up\` wrote no admin token at ${path} (${errorMessage(err)}); see ${paths.coordinatorLog}`, { cause: err });
  }
  saveCredential(address, token, osUser(), env);
}

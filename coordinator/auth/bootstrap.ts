import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import { hashToken, tokenKind } from '../../common/auth/token.js';
import type { Store } from '../store/types.js';
import { issueToken } from './token-issuer.js';

/** Where the first admin's token is kept for `nsml up` and the operator: `<data>/admin-token`, mode 600. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

function keptToken(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Makes the coordinator's admins (`--admins`, default the OS user running it) admin users, and
 * keeps a working token of the first one in `<data>/admin-token` (mode 600): written when there
 * is none yet, or when the kept one was revoked or belongs to no known token (a new state). This
 * is how `nsml up` logs its CLI in with nothing typed, and how an operator logs in the first
 * time on a cluster (`nsml login --token-file`); it can be deleted once they did.
 */
export function bootstrapAdmins(deps: { store: Store; clock: Clock; logger: Logger }, admins: readonly string[], dataDir: string): void {
  const { store, clock, logger } = deps;
  const now = clock.now();
  for (const name of admins) {
    const { created } = store.users.ensure(name, true, now, 'coordinator');
    if (created) logger.info('admin user created', { user: name });
  }
  const first = admins[0];
  if (first === undefined) return;
  const path = adminTokenPath(dataDir);
  const kept = keptToken(path);
  if (kept !== '' && tokenKind(kept) === 'user') {
    const row = store.users.tokenByHash(hashToken(kept));
    if (row && row.revokedMs === 0 && (row.expiresMs === 0 || row.expiresMs > now) && store.users.get(row.user)?.admin) return;
  }
  const { token } = issueToken(store.users, { user: first, label: 'admin-token file' }, now);
  writeFileAtomic(path, token + '\n', 0o600);
  logger.info('admin token written', { user: first, path, hint: 'log in with `nsml login --token-file ' + path + '`' });
}

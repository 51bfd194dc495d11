import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SCRATCH, parseSessionName } from '../../common/names.js';
import type { RunAsUser } from '../run-as/run-as-user.js';

/** Folders a session gets that outlive it: NSML_NFS_OUTPUT and NSML_CACHE_DIR. */
export interface SessionOutputs {
  /** `<data>/nfs-output/<user>/<dataset>/<n>`: what the session leaves for people and later sessions. */
  nfsOutput: string;
  /** `<data>/cache/<user>`: the SDK's nsml.cache, shared by the user's sessions on this node. */
  cacheDir: string;
}

/** The folders of `session` under the agent's data folder. Pure. */
export function sessionOutputPaths(dataDir: string, session: string): SessionOutputs {
  const name = parseSessionName(session);
  return {
    nfsOutput: join(dataDir, 'nfs-output', name.user, name.dataset || SCRATCH, String(name.n)),
    cacheDir: join(dataDir, 'cache', name.user),
  };
}

/**
 * Makes both folders (kept after the session: nothing removes them) and, when the session runs
 * as its own account, gives them to it; the folders above stay root's and let it pass (0711).
 */
export async function prepareSessionOutputs(dataDir: string, session: string, user: RunAsUser | undefined): Promise<Record<string, string>> {
  const p = sessionOutputPaths(dataDir, session);
  for (const d of [join(dataDir, 'nfs-output'), join(dataDir, 'cache')]) await mkdir(d, { recursive: true, mode: 0o711 });
  await mkdir(p.nfsOutput, { recursive: true, mode: user ? 0o711 : 0o755 });
  await mkdir(p.cacheDir, { recursive: true, mode: user ? 0o700 : 0o755 });
  if (user) {
    for (const d of [p.nfsOutput, p.cacheDir]) await chown(d, user.uid, user.gid);
  }
  return { NSML_NFS_OUTPUT: p.nfsOutput, NSML_CACHE_DIR: p.cacheDir };
}

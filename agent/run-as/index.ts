/**
 * Keeping users apart on a node (agent/README.md, "Users apart"): whose uid runs each session,
 * the agent's data folder made root's alone, and the folders a session's user is given.
 */
import { installSdkCopy } from './sdk-copy.js';
import { join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { systemAccounts, type AccountTool } from './accounts.js';
import { checkReach, hardenDataDir } from './node-dirs.js';
import type { Isolation, SessionUsers } from './run-as-user.js';
import { RunAsPolicy, type RunAsOption } from './session-users.js';
import { readUsersFile } from './users-file.js';

export type { Isolation, RunAsUser, SessionUsers } from './run-as-user.js';
export type { RunAsOption } from './session-users.js';

/** The uid that stands for "any unprivileged account" when probing what accounts the agent creates will reach. */
const ANY_UNPRIVILEGED = 65534;
/** At most this many accounts of a users file are probed at start. */
const MAX_PROBED = 20;

export interface NodeIsolation {
  isolation: Isolation;
  /** Absent when sessions run as the agent's own user. */
  users: SessionUsers | undefined;
  /** Where sessions import the SDK from when they run apart (a readable copy: sdk-copy.ts); absent: the bundled one. */
  sdkPath?: string;
}

/**
 * Sets up how this node runs sessions, at agent start. With a run-as policy (which needs root):
 * the policy is checked, the process umask becomes 077 (nothing the agent writes is readable by
 * others unless it says so), the data folder is made root's alone (node-dirs.ts), and a probe
 * run as the session users proves they can reach the sessions folder, the Python and the SDK;
 * any failure refuses the start with NSML_E_CONFIG. Without one (`none`), a line says that
 * this node cannot keep users apart.
 */
export async function setUpIsolation(
  o: { runAs: RunAsOption; dataDir: string; python: string; sdkPath: string; logger: Logger },
  tool: AccountTool = systemAccounts,
): Promise<NodeIsolation> {
  const uid = process.getuid?.() ?? -1;
  if (o.runAs.mode === 'none') {
    if (uid === 0) {
      o.logger.error('sessions run as root (--isolation none): this node cannot keep users apart, and any session can read the agent\'s credentials and every other session\'s data; use this only on a single-user machine or in tests');
    } else {
      o.logger.warn(`the agent runs as uid ${uid}, not root: it cannot keep users apart; every session runs as this user and can read the others' data and this agent's files (nsml node ls shows "shared uid")`);
    }
    return { isolation: 'none', users: undefined };
  }
  if (uid !== 0) {
    throw new NsmlError(ErrorCodes.CONFIG, `running sessions as other users (${o.runAs.mode === 'file' ? '--run-as' : o.runAs.mode === 'user' ? '--run-as-user' : '--isolation users'}) needs an agent running as root; this one runs as uid ${uid}: start it as root, or with --isolation none`);
  }
  const policy = await RunAsPolicy.open(o.runAs, o.logger, tool);
  process.umask(0o077);
  hardenDataDir(o.dataDir);
  const sdkPath = installSdkCopy(o.sdkPath, o.dataDir);
  const needs = { sessionsDir: join(o.dataDir, 'sessions'), python: o.python, sdkPath };
  for (const who of await probed(o.runAs, tool)) await checkReach(needs, who);
  o.logger.info('sessions run apart, as unprivileged users', { runAs: policy.describe() });
  return { isolation: 'users', users: policy, sdkPath };
}

async function probed(runAs: Exclude<RunAsOption, { mode: 'none' }>, tool: AccountTool): Promise<Array<{ uid: number; gid: number; label: string }>> {
  if (runAs.mode === 'accounts') return [{ uid: ANY_UNPRIVILEGED, gid: ANY_UNPRIVILEGED, label: 'accounts of their own (probed as uid 65534)' }];
  const names = runAs.mode === 'user' ? [runAs.name] : [...new Set(readUsersFile(runAs.path).values())].slice(0, MAX_PROBED);
  const out: Array<{ uid: number; gid: number; label: string }> = [];
  for (const name of names) {
    const a = await tool.lookup(name);
    if (a) out.push({ uid: a.uid, gid: a.gid, label: `${a.name} (uid ${a.uid})` });
  }
  return out;
}

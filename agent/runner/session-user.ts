import { closeSync, constants, fchownSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { datasetsDir } from '../datasets/dataset-env.js';
import { canChangeOwners, handOver, handOverFolders, reclaimTree } from '../run-as/ownership.js';
import type { RunAsUser } from '../run-as/run-as-user.js';
import { writeJsonAtomic, type SessionDir } from './session-dir.js';

/** Where loaded checkpoints go (agent/checkpoints): beside NSML_CHECKPOINT_DIR, never inside it. */
export function loadedCheckpointsDir(checkpointDir: string): string {
  return join(dirname(checkpointDir), 'loaded-checkpoints');
}

/** The folders of a rank that its user gets (each 0700, its own), the workspace's sub-folders aside. */
function userFolders(dir: SessionDir): string[] {
  return [dir.workspace, datasetsDir(dir.root), dir.checkpoints, dir.home, loadedCheckpointsDir(dir.checkpoints)];
}

/**
 * Part of prestart when the process runs as `user` (agent/run-as): records the account in
 * user.json (root's; the bridge and checkpoint loads read it), makes checkpoints/, home/ and
 * loaded-checkpoints/, creates telemetry.jsonl for the user (0600: the SDK appends, the agent
 * reads; the user cannot replace it, the folder being root's), and hands the user its folders:
 * the workspace's folders (its files stay root's read-only links into the blob cache), the
 * datasets folder (the mounted trees stay root's, read-only), checkpoints/, home/ and
 * loaded-checkpoints/. Until now only root could reach any of them.
 */
export async function giveToUser(dir: SessionDir, user: RunAsUser): Promise<void> {
  writeJsonAtomic(dir.file('user.json'), user);
  for (const d of [dir.checkpoints, dir.home, loadedCheckpointsDir(dir.checkpoints)]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const fd = openSync(dir.telemetry, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
  try {
    fchownSync(fd, user.uid, user.gid);
  } finally {
    closeSync(fd);
  }
  await handOverFolders(dir.workspace, user);
  for (const d of userFolders(dir)) await handOver(d, user).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err; // no datasets mounted
  });
}

/** The account a rank's process runs as, from user.json; undefined when it runs as the agent's own user. */
export function sessionUserOf(dir: SessionDir): RunAsUser | undefined {
  return dir.readJson<RunAsUser>('user.json');
}

/**
 * Part of cleanup (and of forgetting a rank): takes back every folder the user was given,
 * top-down (agent/run-as/ownership.ts), so that removing them can never be turned against root.
 * A no-op when the agent is not root.
 */
export async function takeBackFromUser(dir: SessionDir): Promise<void> {
  if (!canChangeOwners()) return;
  const socket = socketFolderOf(dir);
  for (const d of [...userFolders(dir), ...(socket ? [socket] : [])]) await reclaimTree(d);
}

/** The folder of the rank's bridge socket; undefined when the path is too long for a socket (none was made). */
export function socketFolderOf(dir: SessionDir): string | undefined {
  try {
    return dirname(dir.socket);
  } catch {
    return undefined;
  }
}

import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunAsUser } from './run-as-user.js';

/** Who a folder is given to. */
export type Owner = Pick<RunAsUser, 'uid' | 'gid'>;

/*
 * Folders that pass between the agent (root) and a session's user. The rule that keeps root
 * safe: root never writes into, reads through or removes a folder the user can change. A folder
 * is built while only root can reach it, then handed over (`handOver`); before root works in it
 * again it is taken back (`reclaimTree`), top-down, so that every folder root then walks is
 * root's and mode 0700: the user can no longer rename, add or swap anything in it (not even
 * through a descriptor or working directory it kept), and no symlink race can send root elsewhere.
 */

/** Gives one folder to `user` (owner uid:gid, mode `mode`). `path` must be a real folder whose parent only root can change. */
export async function handOver(path: string, user: Owner, mode = 0o700): Promise<void> {
  await lchown(path, user.uid, user.gid);
  await chmod(path, mode);
}

/** Gives `root` and every folder below it to `user`; files stay as they are. Only for a tree the user cannot reach yet. */
export async function handOverFolders(root: string, user: Owner): Promise<void> {
  const info = await lstat(root).catch(() => undefined);
  if (!info?.isDirectory()) return;
  const list = await readdir(root, { withFileTypes: true });
  for (const d of list) if (d.isDirectory()) await handOverFolders(join(root, d.name), user);
  await lchown(root, user.uid, user.gid);
}

/**
 * Takes back `path` and everything below it: each folder becomes root's, mode 0700, before it is
 * read. Files and symlinks are left as they are (never followed). A missing path is fine.
 * `path`'s parent must be a folder only root can change.
 */
export async function reclaimTree(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await lchown(path, 0, 0);
  await chmod(path, 0o700);
  const list = await readdir(path, { withFileTypes: true });
  for (const d of list) if (d.isDirectory()) await reclaimTree(join(path, d.name));
}

/** Whether this process can hand folders over (it runs as root). */
export function canChangeOwners(): boolean {
  return process.getuid?.() === 0;
}

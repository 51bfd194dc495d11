import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { CheckpointFile } from '../bridge/checkpoint-files.js';
import { handOverFolders } from '../run-as/ownership.js';

/**
 * A rank whose process runs as another user than the agent (agent/run-as): the agent (root)
 * never reads through, nor writes into, that user's folders by path. `stagingDir` is a folder
 * only root can change, on the same file system (the rank's folder).
 */
export interface CheckpointOwner {
  uid: number;
  gid: number;
  stagingDir: string;
}

/**
 * Pins the files of a save before they are read: each is hard-linked (a link is never followed)
 * into a fresh folder only root can change, and kept only if it is a regular file of the
 * session's user. A checkpoint can hold nothing the user could not read itself: a symlink, or a
 * folder swapped for one while the agent lists it, pins another owner's file, which is refused
 * (NSML_E_PERMISSION_DENIED). Hashing and uploading then read the pinned links.
 */
export async function pinOwnedFiles(files: CheckpointFile[], owner: CheckpointOwner): Promise<{ files: CheckpointFile[]; release(): Promise<void> }> {
  const stage = join(owner.stagingDir, `.save-${randomBytes(6).toString('hex')}`);
  await mkdir(stage, { mode: 0o700 });
  const release = () => rm(stage, { recursive: true, force: true });
  try {
    const pinned: CheckpointFile[] = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const local = join(stage, String(i));
      try {
        await link(f.local, local);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new NsmlError(ErrorCodes.FILE_CHANGED, `${f.path} of the checkpoint vanished before it was uploaded; write the checkpoint completely, then save it`, { cause: err });
        throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `cannot read ${f.path} of the checkpoint: ${errorMessage(err)}`, { cause: err });
      }
      const info = await lstat(local);
      if (!info.isFile() || info.uid !== owner.uid) {
        throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `${f.path} of the checkpoint is not a file of the session's user (uid ${info.uid}); a checkpoint holds only files the session wrote itself`);
      }
      pinned.push({ ...f, local, size: info.size });
    }
    return { files: pinned, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** A root-only folder in which a loaded checkpoint is built before it is given to the user (`moveToUser`). */
export function loadStaging(owner: CheckpointOwner): string {
  return join(owner.stagingDir, '.loading');
}

/**
 * Gives a checkpoint built in `loadStaging` to the user: its folders become the user's (its
 * files stay root's read-only links into the blob cache), then it is renamed into `workDir`
 * (the user's loaded-checkpoints/, whose place only root can change; a rename never follows
 * the name it replaces). Returns the new path.
 */
export async function moveToUser(built: string, workDir: string, owner: CheckpointOwner): Promise<string> {
  const final = join(workDir, basename(built));
  try {
    await handOverFolders(built, owner);
    await rename(built, final);
  } catch (err) {
    await rm(built, { recursive: true, force: true });
    throw err;
  }
  return final;
}

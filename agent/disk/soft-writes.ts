import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { noteDiskFull } from './disk-errors.js';

/** Temp file + rename: a reader sees the old content or the new, never a torn write. Throws. */
export function writeFileAtomic(path: string, content: string, mode?: number): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, mode === undefined ? undefined : { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The latest content of every file whose write failed for lack of room, by path. */
const deferred = new Map<string, { content: string; mode: number | undefined }>();

/**
 * Writes like `writeFileAtomic`, but a full disk (ENOSPC, EDQUOT) does not throw: the content
 * is kept and written by `retryDeferredWrites()` once there is room (a later write of the same
 * path replaces it), and the failure is published on `diskFullChannel`. Returns false when
 * the write was deferred. Other errors throw.
 */
export function writeFileSoft(path: string, content: string, mode?: number): boolean {
  try {
    writeFileAtomic(path, content, mode);
    deferred.delete(path);
    return true;
  } catch (err) {
    if (!noteDiskFull(path, err)) throw err;
    deferred.set(path, { content, mode });
    return false;
  }
}

/**
 * Writes what was deferred, oldest first; stops at the first write that still finds no room.
 * A file whose folder is gone (its rank was forgotten) is dropped. Returns how many remain.
 */
export function retryDeferredWrites(): number {
  for (const [path, { content, mode }] of [...deferred]) {
    if (!existsSync(dirname(path))) {
      deferred.delete(path);
      continue;
    }
    try {
      writeFileAtomic(path, content, mode);
      deferred.delete(path);
    } catch (err) {
      if (noteDiskFull(path, err)) break;
      deferred.delete(path); // another failure: retrying will not help; the next write replaces it
    }
  }
  return deferred.size;
}

/** How many writes wait for room. */
export function deferredWriteCount(): number {
  return deferred.size;
}

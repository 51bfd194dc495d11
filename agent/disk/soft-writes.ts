import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { noteDiskFull } from './disk-errors.js';

export { writeFileAtomic };

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

import { closeSync, openSync, writeSync } from 'node:fs';

/** Writes `path` until its file system has no byte left (a small tmpfs in the disk-full tests). */
export function fillDisk(path: string): string {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

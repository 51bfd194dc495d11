import { close, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);
const openAsync = promisify(open);
const closeAsync = promisify(close);

/** The two fsyncs that make a blob durable; a fake in tests can hold them back or count them. */
export interface DiskSync {
  /** fsyncs an open file. */
  file(fd: number): Promise<void>;
  /** fsyncs a folder so that renames into it survive a crash. */
  dir(path: string): Promise<void>;
}

export const realDiskSync: DiskSync = {
  file: (fd) => fsyncAsync(fd),
  dir: fsyncDir,
};

async function fsyncDir(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = await openAsync(dir, 'r');
  } catch {
    return; // The folder went away; nothing to make durable.
  }
  try {
    await fsyncAsync(fd);
  } catch {
    // Some file systems cannot fsync a folder; the rename itself is atomic there.
  } finally {
    await closeAsync(fd).catch(() => undefined);
  }
}

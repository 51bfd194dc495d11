import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, NsmlError } from './errors.js';

/**
 * Creates a process's data directory (`--data DIR`) and proves it writable by writing and
 * removing a probe file, so that a bad directory is reported once, at start, as
 * NSML_E_STATE_DIR naming the directory and what to do, not later as NSML_E_INTERNAL from
 * whichever write met it first. `what` names the flag and command, e.g. "nsml agent --data".
 */
export function ensureDataDir(dir: string, what: string): void {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    throw dataDirError(path, what, 'cannot be created', err);
  }
  const probe = join(path, `.nsml-write-probe.${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    throw dataDirError(path, what, 'is not writable', err);
  }
}

const REASONS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ENAMETOOLONG: 'the path is too long',
};

function dataDirError(path: string, what: string, verb: string, err: unknown): NsmlError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const why = REASONS[code] ? `${REASONS[code]} (${code})` : String((err as Error).message ?? err);
  return new NsmlError(
    ErrorCodes.STATE_DIR,
    `the data directory ${path} ${verb}: ${why}; give ${what} a directory this user (uid ${process.getuid?.() ?? '?'}) can create and write, or fix the path or its permissions`,
    { cause: err, details: { path, errno: code } },
  );
}

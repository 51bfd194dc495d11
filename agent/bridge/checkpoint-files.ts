import { lstat, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { MAX_MANIFEST_ENTRIES } from '../../common/manifest.js';
import { validateRelativePath } from '../../common/names.js';

/** One regular file of a checkpoint: where it goes in the manifest and where it is now. */
export interface CheckpointFile {
  /** Manifest path, `/`-separated, e.g. `model/w.pt`. */
  path: string;
  /** Absolute local path to read it from. */
  local: string;
  size: number;
  mode: number;
}

export interface CheckpointListing {
  files: CheckpointFile[];
  /** Entries left out: symlinks, sockets, devices (never followed, never uploaded). */
  skipped: string[];
}

/**
 * Lists the regular files under `root` (a file or a directory), with manifest paths under `prefix`
 * (`''` for the root's contents). Symlinks are skipped, so a checkpoint cannot pull in files from
 * outside its directory.
 */
export async function listCheckpointFiles(root: string, prefix = ''): Promise<CheckpointListing> {
  const out: CheckpointListing = { files: [], skipped: [] };
  const stats = await lstat(root);
  if (stats.isFile()) {
    if (!prefix) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${root} is a file; a checkpoint file needs a manifest name`);
    out.files.push({ path: validateRelativePath(prefix), local: root, size: stats.size, mode: stats.mode & 0o777 });
    return out;
  }
  if (!stats.isDirectory()) {
    out.skipped.push(root);
    return out;
  }
  await walk(root, prefix, out);
  return out;
}

async function walk(dir: string, prefix: string, out: CheckpointListing): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const local = join(dir, entry.name);
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      await walk(local, path, out);
    } else if (entry.isFile()) {
      if (out.files.length >= MAX_MANIFEST_ENTRIES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `a checkpoint has more than ${MAX_MANIFEST_ENTRIES} files; pack them into fewer files`);
      }
      const stats = await lstat(local);
      out.files.push({ path: validateRelativePath(path), local, size: stats.size, mode: stats.mode & 0o777 });
    } else {
      out.skipped.push(path);
    }
  }
}

/** Whether `dir` is `parent` or inside it, after resolving symlinks of both. */
export async function isInside(dir: string, parent: string): Promise<boolean> {
  const [d, p] = await Promise.all([realpath(dir), realpath(parent)]);
  const rel = relative(p, d);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, linkSync, mkdirSync } from 'node:fs';
import { chmod, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { ManifestEntry } from '../../common/manifest.js';

/** Links are made synchronously in batches of this many, yielding to the event loop between. */
const BATCH = 1000;

/** Where each entry's bytes are: a cached blob (or its mode variant); `repair` fetches one that went missing. */
export interface TreeSources {
  pathOf(entry: ManifestEntry): string;
  repair(entry: ManifestEntry): Promise<string>;
}

function inside(root: string, rel: string): string {
  const target = resolve(root, rel);
  if (!target.startsWith(root + sep)) throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `dataset path ${JSON.stringify(rel)} leaves the dataset folder`);
  return target;
}

function parentsOf(entries: ManifestEntry[]): string[] {
  const dirs = new Set<string>();
  for (const e of entries) {
    for (let at = e.path.lastIndexOf('/'); at > 0; at = e.path.lastIndexOf('/', at - 1)) {
      const d = e.path.slice(0, at);
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return [...dirs].sort();
}

function linkOne(source: string, target: string, mode: number): void {
  try {
    linkSync(source, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    copyFileSync(source, target);
    chmodSync(target, mode & 0o555);
  }
}

/**
 * Builds `dest` from hard links to cached blobs: a hidden staging folder first, whose files and
 * folders are made read-only, renamed to `dest` at the end, so `dest` holds the whole tree or
 * does not exist. Ten thousand links take a few tens of milliseconds.
 */
export async function linkTree(entries: ManifestEntry[], dest: string, sources: TreeSources, signal: AbortSignal): Promise<void> {
  const staging = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.partial`);
  mkdirSync(staging, { recursive: true });
  try {
    const dirs = parentsOf(entries);
    for (const d of dirs) mkdirSync(inside(staging, d), { recursive: true });
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const target = inside(staging, e.path);
      try {
        linkOne(sources.pathOf(e), target, e.mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        linkOne(await sources.repair(e), target, e.mode);
      }
      if (i % BATCH === BATCH - 1) {
        await yieldNow();
        if (signal.aborted) throw new NsmlError(ErrorCodes.SPAWN_FAILED, 'stopped while the dataset was being prepared');
      }
    }
    for (const d of dirs.reverse()) chmodSync(inside(staging, d), 0o555);
    chmodSync(staging, 0o555);
    await rename(staging, dest);
  } catch (err) {
    await removeTree(staging);
    throw err;
  }
}

/** Removes a read-only tree: its folders are made writable first (needed when not root). */
export async function removeTree(root: string): Promise<void> {
  const open = async (dir: string): Promise<void> => {
    await chmod(dir, 0o755).catch(() => undefined);
    const list = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(list.filter((d) => d.isDirectory()).map((d) => open(join(dir, d.name))));
  };
  await open(root);
  await rm(root, { recursive: true, force: true });
}

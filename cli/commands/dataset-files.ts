import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { downloadBlob } from '../../common/blobs/download.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { decodeManifest, type Manifest, type ManifestEntry } from '../../common/manifest.js';
import type { CoordinatorClient } from '../client.js';
import type { Progress } from './dataset-progress.js';

/** Reads a manifest blob from the coordinator. */
export async function fetchManifest(client: CoordinatorClient, hash: string): Promise<Manifest> {
  const tmp = join(tmpdir(), `nsml-manifest-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await downloadBlob(client.blobs, hash, tmp, { metadata: client.metadata(), target: client.address });
    return decodeManifest(await readFile(tmp));
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Refuses a destination that exists and is not an empty directory; true when it exists (empty). */
export async function checkDestination(dest: string): Promise<boolean> {
  let isDir: boolean;
  try {
    isDir = (await stat(dest)).isDirectory();
  } catch {
    return false;
  }
  const names = isDir ? await readdir(dest) : ['(it is a file)'];
  if (names.length === 0) return true;
  const shown = names.sort().slice(0, 5).join(', ');
  throw new NsmlError(
    ErrorCodes.DESTINATION_NOT_EMPTY,
    `${dest} is not empty (it holds ${shown}${names.length > 5 ? `, … ${names.length} in all` : ''}); pull into a new or empty directory`,
    { details: { dest } },
  );
}

function inside(root: string, rel: string): string {
  const target = resolve(root, rel);
  if (!target.startsWith(root + sep)) throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `manifest path ${JSON.stringify(rel)} leaves the destination`);
  return target;
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Downloads every file of `manifest` into a hidden staging folder beside `dest`, then renames
 * it to `dest`: the destination shows all of the version or nothing. Each distinct blob is
 * fetched once (verified), later copies of it are local copies.
 */
export async function downloadTree(
  client: CoordinatorClient, manifest: Manifest, dest: string, o: { progress: Progress; signal: AbortSignal; parallel?: number },
): Promise<void> {
  const root = resolve(dest);
  const existed = await checkDestination(root);
  await mkdir(dirname(root), { recursive: true });
  const staging = join(dirname(root), `.${basename(root)}.nsml-pull-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    const first = new Map<string, ManifestEntry>();
    for (const e of manifest.entries) if (!first.has(e.hash)) first.set(e.hash, e);
    await forEachLimited([...first.values()], o.parallel ?? 8, async (e) => {
      if (o.signal.aborted) throw new NsmlError(ErrorCodes.INTERNAL, 'interrupted; the destination was left as it was');
      const target = inside(staging, e.path);
      await mkdir(dirname(target), { recursive: true });
      await downloadBlob(client.blobs, e.hash, target, { metadata: client.metadata(), target: client.address });
      o.progress.add(e.size, 1);
    });
    for (const e of manifest.entries) {
      const target = inside(staging, e.path);
      const source = first.get(e.hash)!;
      if (source !== e) {
        await mkdir(dirname(target), { recursive: true });
        await copyFile(inside(staging, source.path), target);
        o.progress.add(e.size, 1);
      }
    }
    for (const e of manifest.entries) await chmod(inside(staging, e.path), (e.mode & 0o777) | 0o200);
    if (existed) await rmdir(root);
    await rename(staging, root);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof NsmlError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    throw new NsmlError(full ? ErrorCodes.DISK_FULL : ErrorCodes.INTERNAL, `cannot write the dataset into ${dest}: ${errorMessage(err)}${full ? '; free some space and pull again' : ''}`, { cause: err });
  }
}

import { chmod, copyFile, link, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import { decodeManifest, type ManifestEntry } from '../../common/manifest.js';
import type { BlobCache } from '../cache/blob-cache.js';
import { mountDatasets } from '../datasets/runner-hooks.js';
import type { RankContext } from './rank-context.js';

/** How many files are fetched and linked at once. */
const PARALLEL = 8;

/**
 * Hook 1: builds the rank's workspace from its manifest. Missing blobs are fetched into the
 * blob cache; each file is then hard-linked from the cache (read-only, with the manifest's
 * read and execute bits) into the workspace folder. Nothing may land outside that folder.
 */
export async function materialize(ctx: RankContext): Promise<void> {
  const root = ctx.dir.workspace;
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await mountDatasets(ctx); // datasets hook: pinned versions, read-only, at <rank folder>/datasets/NAME
  if (ctx.spec.workspace === '') return;
  await placeManifest(ctx.deps.cache, ctx.spec.workspace, root, ctx.signal);
}

/**
 * Fills the existing folder `root` with the files of manifest blob `manifestHash`: fetches what
 * the blob cache lacks, then hard-links each file from the cache (read-only, keeping the read and
 * execute bits). Used for workspaces and for checkpoints an agent loads. Returns the manifest's entries.
 */
export async function placeManifest(cache: BlobCache, manifestHash: string, root: string, signal: AbortSignal): Promise<ManifestEntry[]> {
  const manifestPath = await cache.ensure(manifestHash);
  const manifest = decodeManifest(await readFile(manifestPath));
  const queue = [...manifest.entries];
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      if (signal.aborted) throw new NsmlError(ErrorCodes.SPAWN_FAILED, 'stopped while the files were being prepared');
      await placeEntry(cache, root, e);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  return manifest.entries;
}

/** The absolute path of `rel` inside `root`; throws when it would leave it. */
export function insideWorkspace(root: string, rel: string): string {
  const target = resolve(root, rel);
  if (!target.startsWith(root + sep)) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `workspace path ${JSON.stringify(rel)} leaves the workspace; paths must be relative and stay inside it`);
  }
  return target;
}

async function placeEntry(cache: BlobCache, root: string, e: ManifestEntry): Promise<void> {
  const target = insideWorkspace(root, e.path);
  const source = await cache.withMode(e.hash, e.mode, e.size);
  try {
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot create the folder of ${e.path}: a file of the workspace has the same name as one of its folders (${errorMessage(err)})`, { cause: err });
  }
  try {
    await link(source, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK') {
      await copyFile(source, target);
      await chmod(target, e.mode & 0o555);
      return;
    }
    if (isNsmlError(err)) throw err;
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot place ${e.path} in the workspace: ${errorMessage(err)}`, { cause: err });
  }
}

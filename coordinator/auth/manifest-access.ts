import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { BlobAccess } from './blob-access.js';
import type { Caller } from './caller.js';

/**
 * A manifest that `caller` registers (a workspace at submit, a dataset version, a checkpoint)
 * must be one they may read, and so must every blob it names: otherwise a known hash would be
 * enough to run, publish or load someone else's files. What a caller cannot read is answered
 * like a missing blob (NSML_E_BLOB_NOT_FOUND: upload it), so nothing is revealed.
 */
export async function requireReadableManifest(
  ctx: { blobs: BlobStore; blobAccess: BlobAccess },
  caller: Caller,
  manifest: string,
  what: string,
): Promise<void> {
  if (caller.admin || !/^[0-9a-f]{64}$/.test(manifest) || !ctx.blobs.has(manifest)) return; // the usual checks answer these
  const missing = (name: string) => new NsmlError(
    ErrorCodes.BLOB_NOT_FOUND,
    `${what} ${name} is not in the blob store for ${caller.user || caller.node}; upload it (BlobService.Has/Put) first`,
    { details: { hash: name } },
  );
  if (!(await ctx.blobAccess.canRead(caller, manifest))) throw missing(`manifest ${manifest}`);
  const names = await ctx.blobAccess.blobsOf(manifest);
  if (names === undefined) return; // not a manifest: the usual checks say so
  const hashes = [...names];
  const stored = hashes.filter((h) => ctx.blobs.has(h)); // a missing one is reported by the usual completeness check
  const readable = await ctx.blobAccess.readable(caller, stored);
  const first = stored.find((h) => !readable.has(h));
  if (first) throw missing(`blob ${first}`);
}

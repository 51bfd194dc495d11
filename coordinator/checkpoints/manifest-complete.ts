import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { decodeManifest } from '../../common/manifest.js';
import type { BlobStore } from '../blobs/blob-store.js';

/** The totals of a complete checkpoint manifest. */
export interface ManifestTotals {
  files: number;
  bytes: number;
  /** Every blob the checkpoint is made of, the manifest first. */
  hashes: string[];
}

/**
 * Checks that the manifest blob and every blob it names are stored with the sizes it states;
 * NSML_E_BLOB_NOT_FOUND names the first missing one. Only then may a checkpoint be registered.
 */
export async function checkManifestStored(blobs: BlobStore, manifest: string, what: string): Promise<ManifestTotals> {
  if (!blobs.has(manifest)) {
    throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `the manifest blob ${manifest} of ${what} is not stored; upload its files and the manifest (BlobService.Put) before registering it`,
      { details: { missing: 1 } });
  }
  const { entries } = decodeManifest(await blobs.readAll(manifest));
  const sizes = new Map<string, number | undefined>();
  let missing = 0;
  let first = '';
  let bytes = 0;
  for (const e of entries) {
    if (!sizes.has(e.hash)) sizes.set(e.hash, blobs.size(e.hash));
    const stored = sizes.get(e.hash);
    if (stored === undefined) {
      missing += 1;
      first ||= `${e.path} (${e.hash})`;
    } else if (stored !== e.size) {
      throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `the manifest of ${what} says ${e.path} has ${e.size} bytes but its blob ${e.hash} has ${stored}; save it again`);
    }
    bytes += e.size;
  }
  if (missing > 0) {
    throw new NsmlError(
      ErrorCodes.BLOB_NOT_FOUND,
      `${missing} of ${entries.length} files of ${what} are not stored (first: ${first}); upload them (BlobService.Put), then register again`,
      { details: { missing } },
    );
  }
  return { files: entries.length, bytes, hashes: [manifest, ...sizes.keys()] };
}

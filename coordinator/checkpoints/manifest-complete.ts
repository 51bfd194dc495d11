import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { inspectManifest } from '../blobs/manifest-inspect.js';

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
  const m = await inspectManifest(blobs, manifest);
  if (!m.stored) {
    throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `the manifest blob ${manifest} of ${what} is not stored; upload its files and the manifest (BlobService.Put) before registering it`,
      { details: { missing: 1 } });
  }
  if (m.wrongSize) {
    const w = m.wrongSize;
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `the manifest of ${what} says ${w.path} has ${w.size} bytes but its blob ${w.hash} has ${w.stored}; save it again`);
  }
  if (m.missing > 0) {
    throw new NsmlError(
      ErrorCodes.BLOB_NOT_FOUND,
      `${m.missing} of ${m.files} files of ${what} are not stored (first: ${m.firstMissing!.path} (${m.firstMissing!.hash})); upload them (BlobService.Put), then register again`,
      { details: { missing: m.missing } },
    );
  }
  return { files: m.files, bytes: m.bytes, hashes: m.hashes };
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import { decodeManifest } from '../../common/manifest.js';
import type { BlobStore } from '../blobs/blob-store.js';

/** What a complete dataset manifest holds. */
export interface ManifestSummary {
  files: number;
  bytes: number;
}

/** A complete manifest's totals and every blob it is made of (the manifest first). */
export interface CompleteManifest extends ManifestSummary {
  hashes: string[];
}

/**
 * Checks that the manifest blob and every blob it names are stored, with the sizes the manifest
 * states: only then may it become a version. NSML_E_DATASET_INCOMPLETE names what is missing.
 */
export async function checkCompleteManifest(blobs: BlobStore, manifest: string): Promise<CompleteManifest> {
  if (!isBlobHash(manifest)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `manifest must be the sha256 of the manifest blob (64 hex digits); got ${JSON.stringify(manifest.slice(0, 80))}`);
  }
  if (!blobs.has(manifest)) {
    throw new NsmlError(ErrorCodes.DATASET_INCOMPLETE, `the manifest blob ${manifest} is not stored; upload the files and the manifest (BlobService) before committing`);
  }
  const { entries } = decodeManifest(await blobs.readAll(manifest));
  const sizes = new Map<string, number | undefined>();
  let missing = 0;
  let firstMissing = '';
  let bytes = 0;
  for (const e of entries) {
    if (!sizes.has(e.hash)) sizes.set(e.hash, blobs.size(e.hash));
    const stored = sizes.get(e.hash);
    if (stored === undefined) {
      missing += 1;
      firstMissing ||= e.path;
    } else if (stored !== e.size) {
      throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `the manifest says ${e.path} has ${e.size} bytes but its blob ${e.hash} has ${stored}; push again`);
    }
    bytes += e.size;
  }
  if (missing > 0) {
    throw new NsmlError(
      ErrorCodes.DATASET_INCOMPLETE,
      `${missing} of ${entries.length} files are not stored yet (first: ${firstMissing}); run the push again: it sends only what is missing`,
      { details: { missing } },
    );
  }
  return { files: entries.length, bytes, hashes: [manifest, ...sizes.keys()] };
}

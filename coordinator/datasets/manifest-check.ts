import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { inspectManifest } from '../blobs/manifest-inspect.js';

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
  const m = await inspectManifest(blobs, manifest);
  if (!m.stored) {
    throw new NsmlError(ErrorCodes.DATASET_INCOMPLETE, `the manifest blob ${manifest} is not stored; upload the files and the manifest (BlobService) before committing`);
  }
  if (m.wrongSize) {
    const w = m.wrongSize;
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `the manifest says ${w.path} has ${w.size} bytes but its blob ${w.hash} has ${w.stored}; push again`);
  }
  if (m.missing > 0) {
    throw new NsmlError(
      ErrorCodes.DATASET_INCOMPLETE,
      `${m.missing} of ${m.files} files are not stored yet (first: ${m.firstMissing!.path}); run the push again: it sends only what is missing`,
      { details: { missing: m.missing } },
    );
  }
  return { files: m.files, bytes: m.bytes, hashes: m.hashes };
}

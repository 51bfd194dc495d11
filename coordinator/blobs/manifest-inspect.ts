import { decodeManifest } from '../../common/manifest.js';
import type { BlobStore } from './blob-store.js';

/** What the blob store holds of a manifest and the blobs it names. */
export interface ManifestInspection {
  /** False when the manifest blob itself is not stored (nothing else is then known). */
  stored: boolean;
  files: number;
  bytes: number;
  /** Every blob it is made of, the manifest first. */
  hashes: string[];
  missing: number;
  firstMissing: { path: string; hash: string } | undefined;
  /** The first file whose blob is stored with another size than the manifest states. */
  wrongSize: { path: string; hash: string; size: number; stored: number } | undefined;
}

/**
 * Reads a manifest and checks every blob it names against the store: the one completeness
 * check behind registering a checkpoint and committing a dataset version (each says in its own
 * words what to do about a gap).
 */
export async function inspectManifest(blobs: BlobStore, manifest: string): Promise<ManifestInspection> {
  if (!blobs.has(manifest)) return { stored: false, files: 0, bytes: 0, hashes: [], missing: 0, firstMissing: undefined, wrongSize: undefined };
  const { entries } = decodeManifest(await blobs.readAll(manifest));
  const sizes = new Map<string, number | undefined>();
  let missing = 0;
  let firstMissing: ManifestInspection['firstMissing'];
  let wrongSize: ManifestInspection['wrongSize'];
  let bytes = 0;
  for (const e of entries) {
    if (!sizes.has(e.hash)) sizes.set(e.hash, blobs.size(e.hash));
    const stored = sizes.get(e.hash);
    if (stored === undefined) {
      missing += 1;
      firstMissing ??= { path: e.path, hash: e.hash };
    } else if (stored !== e.size) {
      wrongSize ??= { path: e.path, hash: e.hash, size: e.size, stored };
    }
    bytes += e.size;
  }
  return { stored: true, files: entries.length, bytes, hashes: [manifest, ...sizes.keys()], missing, firstMissing, wrongSize };
}

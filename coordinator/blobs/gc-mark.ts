import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { decodeManifest } from '../../common/manifest.js';
import type { BlobRoot } from '../store/blob-roots.js';

/** What the mark needs of the blob store. */
export interface ManifestReader {
  has(hash: string): boolean;
  readAll(hash: string): Promise<Buffer>;
}

/** Every blob that must stay: the manifests the state keeps and every blob they name. */
export interface LiveSet {
  live: Set<string>;
  /** Distinct manifests read. */
  manifests: number;
}

/**
 * The mark of the collection: reads each distinct manifest once and takes it and its entries.
 * A manifest that is missing or unreadable aborts the whole collection (NSML_E_GC_UNSAFE):
 * the blobs it names cannot be known, so no unmarked blob can be proven unreferenced.
 */
export async function markLive(blobs: ManifestReader, roots: readonly BlobRoot[]): Promise<LiveSet> {
  const owners = new Map<string, string>();
  for (const r of roots) if (!owners.has(r.manifest)) owners.set(r.manifest, r.owner);
  const live = new Set<string>();
  for (const [manifest, owner] of owners) {
    live.add(manifest);
    if (!blobs.has(manifest)) throw unsafe(manifest, owner, 'is not in the blob store');
    let bytes: Buffer;
    try {
      bytes = await blobs.readAll(manifest);
    } catch (err) {
      throw unsafe(manifest, owner, `cannot be read: ${errorMessage(err)}`, err);
    }
    try {
      for (const e of decodeManifest(bytes).entries) live.add(e.hash);
    } catch (err) {
      throw unsafe(manifest, owner, `is not a valid manifest: ${errorMessage(err)}`, err);
    }
  }
  return { live, manifests: owners.size };
}

function unsafe(manifest: string, owner: string, what: string, cause?: unknown): NsmlError {
  return new NsmlError(
    ErrorCodes.GC_UNSAFE,
    `the manifest ${manifest} of ${owner} ${what}; nothing was collected, since the blobs it names cannot be known. Remove that record (or restore the blob) and collect again`,
    { cause, details: { manifest, owner } },
  );
}

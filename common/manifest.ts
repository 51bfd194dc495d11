import { ErrorCodes, NsmlError, errorMessage } from './errors.js';
import { isBlobHash, sha256 } from './hashing.js';
import { validateRelativePath } from './names.js';

/** One file of a workspace, checkpoint or dataset version. */
export interface ManifestEntry {
  path: string;
  mode: number;
  size: number;
  hash: string;
}

/** A tree of files as a list over content-addressed blobs. Stored itself as a JSON blob. */
export interface Manifest {
  version: 1;
  entries: ManifestEntry[];
}

export const MAX_MANIFEST_ENTRIES = 1_000_000;

/** The canonical bytes of a manifest: entries sorted by path, so equal trees hash equally. */
export function encodeManifest(entries: ManifestEntry[]): { bytes: Buffer; hash: string } {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bytes = Buffer.from(JSON.stringify({ version: 1, entries: sorted.map((e) => ({ path: e.path, mode: e.mode, size: e.size, hash: e.hash })) }));
  return { bytes, hash: sha256(bytes) };
}

/** Parses and validates manifest bytes from outside; every path and hash is checked. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `manifest is not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
  const m = parsed as { version?: unknown; entries?: unknown };
  if (m === null || typeof m !== 'object' || m.version !== 1 || !Array.isArray(m.entries)) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, 'manifest must be {"version":1,"entries":[...]}');
  }
  if (m.entries.length > MAX_MANIFEST_ENTRIES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `manifest has ${m.entries.length} entries; the limit is ${MAX_MANIFEST_ENTRIES}`);
  }
  const seen = new Set<string>();
  const entries = m.entries.map((raw: unknown, i: number): ManifestEntry => {
    const e = raw as Partial<ManifestEntry>;
    if (typeof e?.path !== 'string' || typeof e.hash !== 'string' || typeof e.size !== 'number' || typeof e.mode !== 'number'
      || !isBlobHash(e.hash) || !Number.isSafeInteger(e.size) || e.size < 0) {
      throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `manifest entry ${i} must have path, mode, size and a sha256 hash`);
    }
    validateRelativePath(e.path);
    if (seen.has(e.path)) throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `manifest lists ${e.path} twice`);
    seen.add(e.path);
    return { path: e.path, mode: e.mode & 0o777, size: e.size, hash: e.hash };
  });
  return { version: 1, entries };
}

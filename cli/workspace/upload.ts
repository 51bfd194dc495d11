import type { PackedWorkspace } from './pack.js';

/** What uploading a workspace needs from the blob store; `blobUploader()` implements it over gRPC. */
export interface BlobUploader {
  /** The hashes among these that the store lacks. */
  missing(hashes: string[]): Promise<string[]>;
  /** Uploads these files, each stored under its hash. */
  uploadFiles(files: Array<{ hash: string; path: string; size: number }>): Promise<void>;
  uploadBytes(hash: string, bytes: Uint8Array): Promise<void>;
}

export interface UploadReport {
  /** Manifest entries whose content had to be sent. */
  uploadedFiles: number;
  /** Bytes of content sent (each distinct blob once). */
  uploadedBytes: number;
  unchangedFiles: number;
  /** The workspace: the manifest blob's hash. */
  workspace: string;
}

/** Sends only what the store lacks: the missing content blobs, then the manifest. */
export async function uploadWorkspace(packed: PackedWorkspace, uploader: BlobUploader): Promise<UploadReport> {
  const missing = new Set(await uploader.missing([...packed.sources.keys(), packed.manifest.hash]));
  const files = [...packed.sources].filter(([hash]) => missing.has(hash)).map(([hash, src]) => ({ hash, path: src.path, size: src.size }));
  if (files.length > 0) await uploader.uploadFiles(files);
  if (missing.has(packed.manifest.hash)) await uploader.uploadBytes(packed.manifest.hash, packed.manifest.bytes);
  const uploadedFiles = packed.entries.filter((e) => missing.has(e.hash)).length;
  return {
    uploadedFiles,
    uploadedBytes: files.reduce((sum, f) => sum + f.size, 0),
    unchangedFiles: packed.entries.length - uploadedFiles,
    workspace: packed.manifest.hash,
  };
}

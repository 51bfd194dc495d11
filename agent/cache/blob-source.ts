import * as grpc from '@grpc/grpc-js';
import { writeFile } from 'node:fs/promises';
import { downloadBlob } from '../../common/blobs/download.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type { BlobServiceClient } from '../../common/proto/types.js';

/** Where the agent gets blobs it does not have yet. */
export interface BlobSource {
  /** Writes the whole blob `hash` to `destPath` (created or replaced). */
  fetch(hash: string, destPath: string): Promise<void>;
  close(): void;
}

/** Blobs from the coordinator's BlobService (verified and written atomically by downloadBlob). */
export function createGrpcBlobSource(address: string): BlobSource {
  const proto = loadProto();
  const client = new proto.nsml.v1.BlobService(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS) as BlobServiceClient;
  return {
    fetch: async (hash, destPath) => {
      await downloadBlob(client, hash, destPath, { target: address });
    },
    close: () => client.close(),
  };
}

/** An in-memory source for tests: blobs by hash; counts fetches. */
export class MemoryBlobSource implements BlobSource {
  readonly fetches: string[] = [];
  constructor(readonly blobs = new Map<string, Uint8Array>()) {}

  add(hash: string, data: Uint8Array): void {
    this.blobs.set(hash, data);
  }

  async fetch(hash: string, destPath: string): Promise<void> {
    this.fetches.push(hash);
    const data = this.blobs.get(hash);
    if (!data) throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `blob ${hash} is not stored; upload it first`);
    await writeFile(destPath, data);
  }

  close(): void {}
}

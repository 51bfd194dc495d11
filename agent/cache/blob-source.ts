import { writeFile } from 'node:fs/promises';
import { downloadBlob } from '../../common/blobs/download.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { type ClientTls, dial } from '../../common/grpc/credentials.js';
import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { tokenInterceptor } from '../../common/grpc/token-interceptor.js';
import { loadProto } from '../../common/proto/load.js';
import type { BlobServiceClient } from '../../common/proto/types.js';

export interface FetchOptions {
  /** Permission bits of the file (honoured by sources that set `verifies`). */
  mode?: number;
}

/** Where the agent gets blobs it does not have yet. */
export interface BlobSource {
  /** Writes the whole blob `hash` to `destPath` (created or replaced). */
  fetch(hash: string, destPath: string, options?: FetchOptions): Promise<void>;
  /**
   * True when `fetch` itself verifies the sha256, fsyncs, applies `options.mode` and makes
   * `destPath` appear atomically: the cache then fetches straight to the final name and does
   * not read the blob again.
   */
  readonly verifies?: boolean;
  close(): void;
}

/**
 * The receive window of a blob client's connection and streams: a Get stream then runs
 * without waiting for a window update every 64 KiB.
 */
export const BLOB_FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

/** Blobs from the coordinator's BlobService (verified and written atomically by downloadBlob). */
export function createGrpcBlobSource(address: string, tls?: ClientTls, credential: () => string = () => ''): BlobSource {
  const proto = loadProto();
  const { credentials, options } = dial(tls, address, { ...CLIENT_CHANNEL_OPTIONS, 'grpc-node.flow_control_window': BLOB_FLOW_CONTROL_WINDOW });
  const client = new proto.nsml.v1.BlobService(address, credentials, { ...options, interceptors: [tokenInterceptor(credential)] }) as BlobServiceClient;
  return {
    verifies: true,
    fetch: async (hash, destPath, fetchOptions = {}) => {
      await downloadBlob(client, hash, destPath, { target: address, ...(fetchOptions.mode === undefined ? {} : { mode: fetchOptions.mode }) });
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

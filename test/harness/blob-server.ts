import type { BlobAuth } from '../../coordinator/services/blob-service.js';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CHANNEL_OPTIONS, SERVER_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type { BlobServiceClient, BlobServiceHandlers } from '../../common/proto/types.js';
import { blobService } from '../../coordinator/services/blob-service.js';
import { FileBlobStore, type FileBlobStoreOptions } from '../../coordinator/blobs/blob-store.js';

export interface BlobServer {
  dir: string;
  /** host:port of the service. */
  address: string;
  store: FileBlobStore;
  client: BlobServiceClient;
  close(): Promise<void>;
}

/** Serves `handlers` as the BlobService on a loopback port; returns a client and a closer. */
export async function serveBlobs(handlers: BlobServiceHandlers): Promise<{ address: string; client: BlobServiceClient; close(): Promise<void> }> {
  const proto = loadProto();
  const server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
  server.addService(proto.nsml.v1.BlobService.service, handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const address = `127.0.0.1:${port}`;
  const client = new proto.nsml.v1.BlobService(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS) as BlobServiceClient;
  return {
    address,
    client,
    close: async () => {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/**
 * Blob tests that are not about who may read what: every call is an admin's. (Authorization is
 * tested against the real coordinator in test/security/.)
 */
export const TRUST_EVERY_CALLER: BlobAuth = {
  auth: { caller: () => ({ user: 'test', admin: true }) },
  access: { readable: async (_c, hashes) => new Set(hashes), canRead: async () => true },
  users: { recordUpload: () => {} },
};

/** A FileBlobStore in a temp folder behind a real BlobService on loopback. */
export async function startBlobServer(options: FileBlobStoreOptions = {}): Promise<BlobServer> {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-blob-server-'));
  const store = await FileBlobStore.open(join(dir, 'blobs'), options);
  const served = await serveBlobs(blobService(store, TRUST_EVERY_CALLER));
  return {
    dir,
    address: served.address,
    store,
    client: served.client,
    close: async () => {
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

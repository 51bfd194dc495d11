import * as grpc from '@grpc/grpc-js';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { CLIENT_CHANNEL_OPTIONS, DEADLINES_MS, deadline } from '../../common/grpc/options.js';
import { fromServiceError } from '../../common/grpc/status.js';
import { loadProto } from '../../common/proto/load.js';
import type { BlobChunk__Output, BlobServiceClient } from '../../common/proto/types.js';

/** Where the agent gets blobs it does not have yet. */
export interface BlobSource {
  /** Writes the whole blob `hash` to `destPath` (created or replaced). Does not verify the hash. */
  fetch(hash: string, destPath: string): Promise<void>;
  close(): void;
}

/** Per blob: the stream may take long for big blobs, so the deadline grows with the wait budget. */
const FETCH_DEADLINE_MS = DEADLINES_MS.wait * 10;

/** Blobs from the coordinator's BlobService. */
export function createGrpcBlobSource(address: string): BlobSource {
  const proto = loadProto();
  const client = new proto.nsml.v1.BlobService(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS) as BlobServiceClient;
  return {
    fetch: (hash, destPath) => fetchOverGrpc(client, address, hash, destPath),
    close: () => client.close(),
  };
}

function fetchOverGrpc(client: BlobServiceClient, address: string, hash: string, destPath: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const out = createWriteStream(destPath);
    const call = client.Get({ hash, offset: 0 }, { deadline: deadline(FETCH_DEADLINE_MS) });
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      call.cancel();
      out.destroy();
      reject(err);
    };
    let expected = 0;
    call.on('data', (chunk: BlobChunk__Output) => {
      if (chunk.offset !== expected) {
        fail(new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${hash}: expected a chunk at offset ${expected}, got one at ${chunk.offset}`));
        return;
      }
      expected += chunk.data.length;
      if (!out.write(chunk.data)) {
        call.pause();
        out.once('drain', () => call.resume());
      }
    });
    call.on('error', (err) => fail(fromServiceError(err, address)));
    call.on('end', () => {
      if (failed) return;
      out.end(() => resolve());
    });
    out.on('error', (err) => fail(err));
  });
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

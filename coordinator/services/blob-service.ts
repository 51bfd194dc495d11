import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { BlobChunk, BlobChunk__Output, BlobServiceHandlers } from '../../common/proto/types.js';
import type { GetBlobRequest__Output } from '../../common/proto/generated/nsml/v1/GetBlobRequest.js';
import { validateHash, type BlobStore } from '../blobs/blob-store.js';
import { unary } from './grpc-util.js';

export const MAX_HAS_HASHES = 100_000;

async function put(blobs: BlobStore, call: grpc.ServerReadableStream<BlobChunk__Output, unknown>) {
  const stored: string[] = [];
  let bytesReceived = 0;
  for await (const chunk of call as AsyncIterable<BlobChunk__Output>) {
    bytesReceived += chunk.data.length;
    const { complete } = await blobs.writeChunk(chunk);
    if (complete && stored[stored.length - 1] !== chunk.hash) stored.push(chunk.hash);
  }
  return { stored, bytesReceived };
}

async function get(blobs: BlobStore, call: grpc.ServerWritableStream<GetBlobRequest__Output, BlobChunk>): Promise<void> {
  const { hash, offset } = call.request;
  validateHash(hash);
  const size = blobs.size(hash);
  if (size === undefined) throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `blob ${hash} is not in the store`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `offset ${offset} is outside blob ${hash} of ${size} bytes`);
  }
  if (size === offset) {
    call.write({ hash, size, offset, data: Buffer.alloc(0) });
    return;
  }
  let at = offset;
  const stream = blobs.openRead(hash, offset);
  call.on('cancelled', () => stream.destroy());
  for await (const data of stream as AsyncIterable<Buffer>) {
    if (!call.write({ hash, size, offset: at, data })) await new Promise((resolve) => call.once('drain', resolve));
    at += data.length;
  }
}

export function blobService(blobs: BlobStore): BlobServiceHandlers {
  return {
    Has: unary((req) => {
      if (req.hashes.length > MAX_HAS_HASHES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `Has takes at most ${MAX_HAS_HASHES} hashes per call; got ${req.hashes.length}; split the request`);
      }
      const missing: string[] = [];
      const partial: Record<string, number> = {};
      for (const h of new Set(req.hashes)) {
        if (blobs.has(h)) continue;
        missing.push(h);
        const got = blobs.partialSize(h);
        if (got > 0) partial[h] = got;
      }
      return { missing, partial };
    }),
    Put: (call, callback) => {
      put(blobs, call).then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
    },
    Get: (call) => {
      get(blobs, call).then(() => call.end(), (err: unknown) => call.emit('error', toServiceError(err)));
    },
  };
}

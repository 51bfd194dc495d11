import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { BlobChunk, BlobChunk__Output, BlobServiceHandlers } from '../../common/proto/types.js';
import type { GetBlobRequest__Output } from '../../common/proto/generated/nsml/v1/GetBlobRequest.js';
import { ChunkBuffers } from '../../common/blobs/chunk-frame.js';
import { GET_CHUNK_BYTES } from '../../common/blobs/chunk-sizes.js';
import { validateHash, type BlobStore } from '../blobs/blob-store.js';
import { widenReceiveWindow } from '../blobs/receive-window.js';
import type { UploadGuard } from '../blobs/upload-guard.js';
import { unary } from './grpc-util.js';

export const MAX_HAS_HASHES = 100_000;

/** Feeds the stream to a receiver; answers only once every blob it completed is durable and visible. */
async function put(blobs: BlobStore, call: grpc.ServerReadableStream<BlobChunk__Output, unknown>, guard: UploadGuard | undefined) {
  widenReceiveWindow(call);
  const receiver = blobs.receive();
  let bytesReceived = 0;
  try {
    for await (const chunk of call as AsyncIterable<BlobChunk__Output>) {
      bytesReceived += chunk.data.length;
      await receiver.push(chunk);
    }
  } catch (err) {
    await receiver.abort();
    throw err;
  }
  const stored = await receiver.finish();
  guard?.stored(stored);
  return { stored, bytesReceived };
}

/** Chunks of one Get handed to gRPC and not yet sent; their buffers are reused once sent. */
const GET_WINDOW_BYTES = 2 * GET_CHUNK_BYTES;
const getBuffers = new ChunkBuffers();

/**
 * Writes chunks to a Get call keeping at most GET_WINDOW_BYTES unsent: `write` resolves once
 * the call can take more, with false once it was cancelled (no write callback comes then).
 */
function sendWindow(call: grpc.ServerWritableStream<GetBlobRequest__Output, BlobChunk>) {
  let waiting = 0;
  let wake: (() => void) | undefined;
  call.on('cancelled', () => wake?.());
  return async (chunk: BlobChunk & { data: Uint8Array }): Promise<boolean> => {
    const bytes = chunk.data.length;
    waiting += bytes;
    call.write(chunk, () => {
      waiting -= bytes;
      getBuffers.release(chunk.data);
      wake?.();
    });
    while (waiting >= GET_WINDOW_BYTES && !call.cancelled) await new Promise<void>((resolve) => (wake = resolve));
    return !call.cancelled;
  };
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
  const send = sendWindow(call);
  let at = offset;
  for await (const data of blobs.readChunks(hash, offset, size, (n) => getBuffers.alloc(n))) {
    if (!(await send({ hash, size, offset: at, data }))) return;
    at += data.length;
  }
  if (at !== size) throw new NsmlError(ErrorCodes.INTERNAL, `blob ${hash} holds ${at} bytes in the store, not ${size}; it was changed on disk`);
}

/**
 * The blob service. With a guard, every hash asked about by Has and every blob a Put stores is
 * held for its upload until a manifest over it is registered (see UploadGuard), and a blob Has
 * finds is touched, so the collector's grace period starts again.
 */
export function blobService(blobs: BlobStore, guard?: UploadGuard): BlobServiceHandlers {
  return {
    Has: unary((req) => {
      if (req.hashes.length > MAX_HAS_HASHES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `Has takes at most ${MAX_HAS_HASHES} hashes per call; got ${req.hashes.length}; split the request`);
      }
      const missing: string[] = [];
      const partial: Record<string, number> = {};
      const asked = new Set(req.hashes);
      for (const h of asked) {
        if (blobs.has(h)) {
          blobs.touch(h);
          continue;
        }
        missing.push(h);
        const got = blobs.partialSize(h);
        if (got > 0) partial[h] = got;
      }
      guard?.lease(asked);
      return { missing, partial };
    }),
    Put: (call, callback) => {
      put(blobs, call, guard).then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
    },
    Get: (call) => {
      get(blobs, call).then(() => call.end(), (err: unknown) => call.emit('error', toServiceError(err)));
    },
  };
}

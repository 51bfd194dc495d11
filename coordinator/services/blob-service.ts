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
import type { Authenticator } from '../auth/authenticator.js';
import type { BlobAccess } from '../auth/blob-access.js';
import type { Caller } from '../auth/caller.js';
import type { UserTable } from '../auth/user-table.js';
import { unary } from './grpc-util.js';

/** Who may read what: a caller's blobs are theirs (see coordinator/auth/blob-access.ts). */
export interface BlobAuth {
  auth: Pick<Authenticator, 'caller'>;
  access: Pick<BlobAccess, 'readable' | 'canRead'>;
  users: Pick<UserTable, 'recordUpload'>;
}

export const MAX_HAS_HASHES = 100_000;

/** Feeds the stream to a receiver; answers only once every blob it completed is durable and visible. */
async function put(
  blobs: BlobStore, call: grpc.ServerReadableStream<BlobChunk__Output, unknown>, guard: UploadGuard | undefined,
  onChunk: (hash: string) => void, onStored: (hashes: string[]) => void,
) {
  widenReceiveWindow(call);
  const receiver = blobs.receive();
  let bytesReceived = 0;
  try {
    for await (const chunk of call as AsyncIterable<BlobChunk__Output>) {
      bytesReceived += chunk.data.length;
      onChunk(chunk.hash);
      await receiver.push(chunk);
    }
  } catch (err) {
    await receiver.abort();
    throw err;
  }
  const stored = await receiver.finish();
  guard?.stored(stored);
  onStored(stored);
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

async function get(blobs: BlobStore, call: grpc.ServerWritableStream<GetBlobRequest__Output, BlobChunk>, mayRead: (hash: string) => Promise<boolean>): Promise<void> {
  const { hash, offset } = call.request;
  validateHash(hash);
  const size = blobs.size(hash);
  if (size === undefined || !(await mayRead(hash))) throw new NsmlError(ErrorCodes.BLOB_NOT_FOUND, `blob ${hash} is not in the store`);
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
 * Who sent bytes of a blob that is not complete yet: only they are offered to resume it (Has
 * `partial`), so an upload in flight is not revealed to others. In memory: after a restart an
 * upload starts again from its first byte. Bounded: the oldest entries go first.
 */
class PartialUploaders {
  private readonly byHash = new Map<string, Set<string>>();

  started(hash: string, user: string): void {
    let users = this.byHash.get(hash);
    if (!users) {
      if (this.byHash.size >= 100_000) this.byHash.delete(this.byHash.keys().next().value!);
      this.byHash.set(hash, (users = new Set()));
    }
    users.add(user);
  }

  startedBy(hash: string, caller: Caller): boolean {
    return caller.admin || (this.byHash.get(hash)?.has(caller.user) ?? false);
  }

  done(hashes: readonly string[]): void {
    for (const h of hashes) this.byHash.delete(h);
  }
}

/** Who a Put's blobs are recorded for: the user, or the owner of the session an agent uploads for. */
function uploaderOf(caller: Caller): string {
  if (caller.node && !caller.session) {
    throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `node ${caller.node} uploads only for a session placed on it (the ${'nsml-session'} metadata)`);
  }
  return caller.user;
}

/**
 * The blob service. Every call needs a token. Has answers per caller: a stored blob that the
 * caller may not read is "missing" for them (and its partial upload is not offered), so Has
 * reveals nothing of other users' files; the client uploads it, which proves it has the bytes,
 * and the blob is then recorded as theirs. Get serves only blobs the caller may read, and
 * answers NSML_E_BLOB_NOT_FOUND for the others, exactly as for a missing blob.
 *
 * With a guard, every hash asked about by Has and every blob a Put stores is held for its
 * upload until a manifest over it is registered (see UploadGuard), and a blob Has finds is
 * touched, so the collector's grace period starts again.
 */
export function blobService(blobs: BlobStore, auth: BlobAuth, guard?: UploadGuard): BlobServiceHandlers {
  const partials = new PartialUploaders();
  return {
    Has: unary(async (req, call) => {
      const caller = auth.auth.caller(call.metadata);
      if (req.hashes.length > MAX_HAS_HASHES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `Has takes at most ${MAX_HAS_HASHES} hashes per call; got ${req.hashes.length}; split the request`);
      }
      const missing: string[] = [];
      const partial: Record<string, number> = {};
      const asked = new Set(req.hashes);
      const stored = [...asked].filter((h) => blobs.has(h));
      const readable = await auth.access.readable(caller, stored);
      for (const h of asked) {
        if (readable.has(h)) {
          blobs.touch(h);
          continue;
        }
        missing.push(h);
        const got = !blobs.has(h) && partials.startedBy(h, caller) ? blobs.partialSize(h) : 0;
        if (got > 0) partial[h] = got;
      }
      guard?.lease(asked);
      return { missing, partial };
    }),
    Put: (call, callback) => {
      Promise.resolve()
        .then(() => uploaderOf(auth.auth.caller(call.metadata)))
        .then((user) => put(blobs, call, guard, (hash) => partials.started(hash, user), (hashes) => {
          auth.users.recordUpload(hashes, user);
          partials.done(hashes);
        }))
        .then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
    },
    Get: (call) => {
      Promise.resolve()
        .then(() => auth.auth.caller(call.metadata))
        .then((caller) => get(blobs, call, (hash) => auth.access.canRead(caller, hash)))
        .then(() => call.end(), (err: unknown) => call.emit('error', toServiceError(err)));
    },
  };
}

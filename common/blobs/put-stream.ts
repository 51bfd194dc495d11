import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../errors.js';
import { fromServiceError } from '../grpc/status.js';
import { loadProto } from '../proto/load.js';
import type { BlobServiceClient } from '../proto/types.js';
import type { PutResponse__Output } from '../proto/generated/nsml/v1/PutResponse.js';
import { type ChunkBuffers, type ChunkFields, chunkBuffers, encodeChunk } from './chunk-frame.js';
import { PUT_CHUNK_BYTES } from './chunk-sizes.js';

/** A blob to send: its name, size, and its bytes from an offset. */
export interface BlobSource {
  hash: string;
  size: number;
  /**
   * The bytes from `offset`, in chunks of at most MAX_CHUNK_BYTES. A source that reads them
   * may read into `buffers.alloc(n)`: such chunks are sent without a copy.
   */
  read(offset: number, buffers?: ChunkBuffers): AsyncIterable<Uint8Array>;
}

export function targetOf(client: grpc.Client, target?: string): string {
  return target ?? client.getChannel().getTarget();
}

/** Bytes one Put stream may have handed to gRPC and not yet sent (its memory bound). */
export const SEND_WINDOW_BYTES = 2 * PUT_CHUNK_BYTES;

const PUT_PATH = '/nsml.v1.BlobService/Put';

/**
 * Opens a Put whose messages are chunks this module encoded itself (see chunk-frame.ts):
 * written as bytes, so gRPC does not encode them again.
 */
function openPut(client: BlobServiceClient, metadata: grpc.Metadata, deadlineMs: number, done: grpc.requestCallback<PutResponse__Output>): grpc.ClientWritableStream<Buffer> {
  const deserialize = loadProto().nsml.v1.BlobService.service.Put.responseDeserialize as (bytes: Buffer) => PutResponse__Output;
  const identity = (frame: Buffer) => frame;
  return client.makeClientStreamRequest(PUT_PATH, identity, deserialize, metadata, { deadline: new Date(Date.now() + deadlineMs) }, done);
}

/**
 * Frames handed to a call and not yet sent: `write` queues one and resolves at once while fewer
 * than `limit` bytes wait, otherwise once enough were sent or the call ended (then no write
 * callback may ever come). A chunk's buffer goes back to `buffers` once its frame was sent.
 */
class SendWindow {
  private waiting = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly call: grpc.ClientWritableStream<Buffer>,
    private readonly buffers: ChunkBuffers,
    private readonly ended: Promise<void>,
    private readonly isEnded: () => boolean,
  ) {}

  async write(fields: ChunkFields, data: Uint8Array): Promise<void> {
    const frame = encodeChunk(fields, data, this.buffers.roomOf(data));
    this.waiting += frame.length;
    this.call.write(frame, () => {
      this.waiting -= frame.length;
      this.buffers.release(data);
      this.wake?.();
    });
    while (this.waiting >= SEND_WINDOW_BYTES) {
      const sent = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([sent, this.ended]);
      this.wake = undefined;
      if (this.isEnded()) return;
    }
  }
}

function changed(source: BlobSource, got: number): NsmlError {
  return new NsmlError(ErrorCodes.WORKSPACE_INVALID, `blob ${source.hash} yielded ${got} bytes but was declared as ${source.size}; the file changed after it was hashed, try again`);
}

/**
 * Sends several blobs, each from its resume offset, on one Put stream with one deadline;
 * reading the next chunk overlaps sending the last ones. Resolves with the bytes sent, once the
 * store answered that every blob is durable.
 */
export async function putBlobs(
  client: BlobServiceClient,
  blobs: Array<{ source: BlobSource; offset: number }>,
  options: { deadlineMs: number; metadata?: grpc.Metadata; target?: string },
): Promise<number> {
  const target = targetOf(client, options.target);
  let outcome: { err?: unknown; res?: PutResponse__Output } | undefined;
  let settle: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  const call = openPut(client, options.metadata ?? new grpc.Metadata(), options.deadlineMs, (err, res) => {
    outcome = err ? { err } : { res: res! };
    settle!();
  });
  const window = new SendWindow(call, chunkBuffers, finished, () => outcome !== undefined);
  let sent = 0;
  try {
    for (const { source, offset } of blobs) {
      let at = offset;
      for await (const data of source.read(offset, chunkBuffers)) {
        if (outcome) break;
        if (at + data.length > source.size) throw changed(source, at + data.length);
        await window.write({ hash: source.hash, size: source.size, offset: at }, data);
        at += data.length;
        sent += data.length;
      }
      if (outcome) break;
      if (at !== source.size) throw changed(source, at);
      // A blob with nothing left to send (empty, or fully received earlier) still needs one chunk to complete.
      if (offset === source.size) await window.write({ hash: source.hash, size: source.size, offset }, Buffer.alloc(0));
    }
  } catch (err) {
    call.cancel();
    await finished;
    throw err;
  }
  call.end();
  await finished;
  if (outcome!.err) throw fromServiceError(outcome!.err, target);
  return sent;
}

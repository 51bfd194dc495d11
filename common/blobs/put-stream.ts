import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../errors.js';
import { fromServiceError } from '../grpc/status.js';
import type { BlobChunk, BlobServiceClient } from '../proto/types.js';
import type { PutResponse__Output } from '../proto/generated/nsml/v1/PutResponse.js';

/** A blob to send: its name, size, and its bytes from an offset, in chunks of at most CHUNK_BYTES. */
export interface BlobSource {
  hash: string;
  size: number;
  read(offset: number): AsyncIterable<Uint8Array>;
}

export function targetOf(client: grpc.Client, target?: string): string {
  return target ?? client.getChannel().getTarget();
}

/**
 * Writes one chunk; when the stream is full, waits for it to drain, or for the call to end
 * (the server failed or went away: then no 'drain' ever comes).
 */
function writeChunk(call: grpc.ClientWritableStream<BlobChunk>, chunk: BlobChunk, failed: () => unknown, finished: Promise<void>): Promise<void> {
  const ok = call.write(chunk);
  if (ok) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      call.off('drain', onDrain);
      call.off('error', onError);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => settle();
    const onError = (err: unknown) => settle(failed() ?? err);
    call.once('drain', onDrain);
    call.once('error', onError);
    void finished.then(() => settle(failed() ?? new NsmlError(ErrorCodes.INTERNAL, 'the upload stream ended before all of it was sent')));
  });
}

/**
 * Sends several blobs, each from its resume offset, on one Put stream with one deadline.
 * Resolves with the bytes sent.
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
  const call = client.Put(options.metadata ?? new grpc.Metadata(), { deadline: new Date(Date.now() + options.deadlineMs) }, (err, res) => {
    outcome = err ? { err } : { res: res! };
    settle!();
  });
  const failed = () => (outcome?.err ? fromServiceError(outcome.err, target) : undefined);
  let sent = 0;
  try {
    for (const { source, offset } of blobs) {
      let at = offset;
      for await (const data of source.read(offset)) {
        if (outcome) break;
        await writeChunk(call, { hash: source.hash, size: source.size, offset: at, data }, failed, finished);
        at += data.length;
        sent += data.length;
      }
      if (outcome) break;
      if (at !== source.size) {
        throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `blob ${source.hash} yielded ${at} bytes but was declared as ${source.size}; the file changed after it was hashed, try again`);
      }
      // A blob with nothing left to send (empty, or fully received earlier) still needs one chunk to complete.
      if (offset === source.size) await writeChunk(call, { hash: source.hash, size: source.size, offset, data: Buffer.alloc(0) }, failed, finished);
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

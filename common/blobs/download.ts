import * as grpc from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { fchmod } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes, NsmlError } from '../errors.js';
import { fromServiceError } from '../grpc/status.js';
import type { BlobChunk__Output, BlobServiceClient } from '../proto/types.js';
import { WRITE_BUDGET_BYTES } from './chunk-sizes.js';
import { ByteBudget, FileWriter } from './file-writer.js';
import { targetOf } from './put-stream.js';

const fchmodAsync = promisify(fchmod);

export interface DownloadOptions {
  metadata?: grpc.Metadata;
  /** Deadline of the whole Get stream; default 30 minutes. */
  deadlineMs?: number;
  target?: string;
  /** Permission bits the file gets before it appears at `destPath`; default as created (0o666 less the umask). */
  mode?: number;
}

/**
 * Downloads one blob to `destPath`: hashes the chunks as they arrive while writing them to a
 * temp file beside it in the background, verifies the sha256, fsyncs, then renames, so
 * `destPath` either does not exist or holds the whole, verified blob.
 */
export async function downloadBlob(client: BlobServiceClient, hash: string, destPath: string, options: DownloadOptions = {}): Promise<{ size: number }> {
  const target = targetOf(client, options.target);
  await mkdir(dirname(destPath), { recursive: true });
  const tmp = join(dirname(destPath), `.${basename(destPath)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const budget = new ByteBudget(WRITE_BUDGET_BYTES);
  const writer = FileWriter.open(tmp, 'w', budget);
  const digest = createHash('sha256');
  let size = 0;
  try {
    const call = client.Get({ hash, offset: 0 }, options.metadata ?? new grpc.Metadata(), { deadline: new Date(Date.now() + (options.deadlineMs ?? 30 * 60_000)) });
    try {
      for await (const chunk of call as AsyncIterable<BlobChunk__Output>) {
        if (chunk.hash !== hash || chunk.offset !== size) {
          call.cancel();
          throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${hash}: expected a chunk at offset ${size}, got ${chunk.hash.slice(0, 12)}@${chunk.offset}`);
        }
        digest.update(chunk.data);
        writer.write(chunk.data, size);
        size += chunk.data.length;
        await budget.below();
      }
    } catch (err) {
      call.cancel();
      throw err instanceof NsmlError ? err : fromServiceError(err, target);
    }
    const got = digest.digest('hex');
    if (got !== hash) throw new NsmlError(ErrorCodes.BLOB_CORRUPT, `blob ${hash} arrived with sha256 ${got}; download it again`);
    if (options.mode !== undefined) await fchmodAsync(await writer.fd(), options.mode);
    await writer.sync();
    await writer.close();
    await rename(tmp, destPath);
    return { size };
  } catch (err) {
    await writer.close(true).catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

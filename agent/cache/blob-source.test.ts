import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../common/blobs/upload.js';
import { sha256 } from '../../common/hashing.js';
import { type BlobServer, startBlobServer } from '../../test/harness/blob-server.js';
import { BlobCache, CACHED_MODE } from './blob-cache.js';
import { createGrpcBlobSource, type BlobSource } from './blob-source.js';

let s: BlobServer;
let dir: string;
let source: BlobSource;
beforeEach(async () => {
  s = await startBlobServer();
  dir = mkdtempSync(join(tmpdir(), 'nsml-grpc-cache-'));
  source = createGrpcBlobSource(s.address);
});
afterEach(async () => {
  source.close();
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('BlobCache over the gRPC source', () => {
  it('fetches a blob of several chunks straight to its cache name, verified and read-only', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17);
    const { hash } = await uploadBytes(s.client, data);
    const cache = new BlobCache(join(dir, 'blobs'), source);
    const path = await cache.ensure(hash, data.length);
    expect(path).toBe(cache.path(hash));
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(CACHED_MODE);
    expect(readdirSync(join(dir, 'blobs', hash.slice(0, 2)))).toEqual([hash]);
  });

  it('keeps nothing of a blob the store does not have', async () => {
    const cache = new BlobCache(join(dir, 'blobs'), source);
    await expect(cache.ensure(sha256('absent'))).rejects.toMatchObject({ code: 'NSML_E_BLOB_NOT_FOUND' });
    expect(readdirSync(join(dir, 'blobs', sha256('absent').slice(0, 2)))).toEqual([]);
  });
});

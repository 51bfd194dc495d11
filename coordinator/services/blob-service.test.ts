import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadBlob } from '../../common/blobs/download.js';
import { putBlobs } from '../../common/blobs/put-stream.js';
import { bytesSource, uploadBytes, uploadFiles } from '../../common/blobs/upload.js';
import { GET_CHUNK_BYTES, PUT_CHUNK_BYTES } from '../../common/blobs/chunk-sizes.js';
import { CHUNK_BYTES, sha256, sha256File } from '../../common/hashing.js';
import type { BlobChunk__Output } from '../../common/proto/types.js';
import { widenReceiveWindow } from '../blobs/receive-window.js';
import { type BlobServer, TRUST_EVERY_CALLER, serveBlobs, startBlobServer } from '../../test/harness/blob-server.js';
import { GatedDisk, until } from '../blobs/test-fixtures/gated-disk.js';
import { blobService } from './blob-service.js';
import { startTestCoordinator, unaryCall, userMd, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let work: string;

beforeEach(async () => {
  t = await startTestCoordinator();
  work = mkdtempSync(join(tmpdir(), 'nsml-blobc-'));
});
afterEach(async () => {
  await t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

async function file(name: string, data: Buffer) {
  const path = join(work, name);
  writeFileSync(path, data);
  return { path, ...(await sha256File(path)) };
}

describe('BlobService with the common/blobs client', () => {
  it('uploads only what is missing, many blobs per stream, big ones in chunks', async () => {
    const big = Buffer.alloc(Math.floor(2.5 * CHUNK_BYTES));
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const files = [await file('a', Buffer.from('aaa')), await file('b', Buffer.from('bbb')), await file('big', big), await file('empty', Buffer.alloc(0))];
    const dup = { ...files[0]!, path: files[0]!.path };
    const first = await uploadFiles(t.clients.blobs, [...files, dup]);
    expect(first).toEqual({ uploadedBlobs: 4, uploadedBytes: 6 + big.length });
    const again = await uploadFiles(t.clients.blobs, files);
    expect(again).toEqual({ uploadedBlobs: 0, uploadedBytes: 0 });
    const c = t.clients.blobs;
    const has = await unaryCall(c, c.Has, { hashes: files.map((f) => f.hash) });
    expect(has.missing).toEqual([]);
    const dest = join(work, 'out', 'big');
    expect(await downloadBlob(c, files[2]!.hash, dest)).toEqual({ size: big.length });
    expect(readFileSync(dest).equals(big)).toBe(true);
  });

  it('resumes a partial upload from where the store stopped (offered only to its uploader, or an admin)', async () => {
    const data = Buffer.alloc(CHUNK_BYTES + 1000, 9);
    const hash = sha256(data);
    // What an upload cut off after 500 bytes leaves in the store (its uploader unknown after a restart).
    writeFileSync(join(t.dir, 'blobs', 'partial', hash), data.subarray(0, 500));
    const c = t.clients.blobs;
    expect((await unaryCall(c, c.Has, { hashes: [hash] }, 'alice')).partial[hash]).toBeUndefined();
    const has = await new Promise<{ partial: Record<string, number> }>((resolve, reject) => c.Has({ hashes: [hash] }, userMd('ops', true), (e, r) => (e ? reject(e) : resolve(r!))));
    expect(has.partial[hash]).toBe(500);
    const r = await uploadBytes(c, data, { metadata: userMd('ops', true) });
    expect(r).toEqual({ hash, uploadedBytes: data.length - 500 });
  });

  it('rejects bytes that do not match their name with NSML_E_BLOB_CORRUPT', async () => {
    const lie = { ...bytesSource(Buffer.from('truth')), hash: sha256('lie') };
    await expect(putBlobs(t.clients.blobs, [{ source: lie, offset: 0 }], { deadlineMs: 10_000 })).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
    const c = t.clients.blobs;
    expect((await unaryCall(c, c.Has, { hashes: [sha256('lie')] })).missing).toEqual([sha256('lie')]);
  });

  it('download of an unknown blob is NSML_E_BLOB_NOT_FOUND and leaves nothing behind', async () => {
    const dest = join(work, 'nothing');
    await expect(downloadBlob(t.clients.blobs, sha256('absent'), dest)).rejects.toMatchObject({ code: 'NSML_E_BLOB_NOT_FOUND' });
    expect(() => readFileSync(dest)).toThrow();
  });
});

describe('BlobService over a store whose fsyncs the test holds back', () => {
  let s: BlobServer;
  let disk: GatedDisk;
  beforeEach(async () => {
    disk = new GatedDisk();
    s = await startBlobServer({ disk });
  });
  afterEach(async () => {
    disk.openFiles();
    disk.openDirs();
    await s.close();
  });

  it('answers a Put of many small blobs only once they are durable', async () => {
    const blobs = Array.from({ length: 20 }, (_, i) => Buffer.from(`small blob ${i}`));
    let done = false;
    const put = putBlobs(s.client, blobs.map((b) => ({ source: bytesSource(b), offset: 0 })), { deadlineMs: 10_000 }).then(() => (done = true));
    await until(() => disk.waiting >= blobs.length);
    expect(done).toBe(false);
    expect((await unaryCall(s.client, s.client.Has, { hashes: blobs.map((b) => sha256(b)) })).missing).toHaveLength(blobs.length);
    disk.openFiles();
    await until(() => disk.waiting > 0);
    expect(done).toBe(false);
    disk.openDirs();
    await put;
    expect((await unaryCall(s.client, s.client.Has, { hashes: blobs.map((b) => sha256(b)) })).missing).toEqual([]);
  });
});

describe('BlobService in 4 MiB chunks', () => {
  let s: BlobServer;
  beforeEach(async () => {
    s = await startBlobServer();
  });
  afterEach(() => s.close());

  it('stores a blob of several chunks and serves it back in GET_CHUNK_BYTES chunks', async () => {
    const data = randomBytes(2 * GET_CHUNK_BYTES + 999);
    const r = await uploadBytes(s.client, data);
    expect(r.uploadedBytes).toBe(data.length);
    const sizes: number[] = [];
    for await (const c of s.client.Get({ hash: r.hash, offset: 0 }) as AsyncIterable<BlobChunk__Output>) sizes.push(c.data.length);
    expect(sizes).toEqual([GET_CHUNK_BYTES, GET_CHUNK_BYTES, 999]);
    const dest = join(s.dir, 'out', 'blob');
    expect(await downloadBlob(s.client, r.hash, dest, { mode: 0o444 })).toEqual({ size: data.length });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(statSync(dest).mode & 0o777).toBe(0o444);
  });

  it('refuses a blob of several chunks that does not match its name, and keeps nothing', async () => {
    const data = randomBytes(2 * PUT_CHUNK_BYTES + 1);
    const lie = { ...bytesSource(data), hash: sha256('something else') };
    await expect(putBlobs(s.client, [{ source: lie, offset: 0 }], { deadlineMs: 10_000 })).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
    const has = await unaryCall(s.client, s.client.Has, { hashes: [lie.hash] });
    expect(has).toMatchObject({ missing: [lie.hash], partial: {} });
  });

  it('resumes from a partial upload that ends inside a 4 MiB chunk', async () => {
    const data = randomBytes(3 * PUT_CHUNK_BYTES);
    const hash = sha256(data);
    const have = PUT_CHUNK_BYTES + 12_345;
    writeFileSync(join(s.dir, 'blobs', 'partial', hash), data.subarray(0, have));
    expect((await unaryCall(s.client, s.client.Has, { hashes: [hash] })).partial[hash]).toBe(have);
    expect(await uploadBytes(s.client, data)).toEqual({ hash, uploadedBytes: data.length - have });
    expect((await s.store.readAll(hash)).equals(data)).toBe(true);
  });

  it('widens the receive window of the connection a Put arrives on (the grpc-js internals it relies on are there)', async () => {
    const served = await serveBlobs({
      ...blobService(s.store, TRUST_EVERY_CALLER),
      Put: (call, callback) => callback(null, { stored: [], bytesReceived: widenReceiveWindow(call) ? 1 : 0 }),
    });
    try {
      const res = await new Promise((resolve, reject) => served.client.Put((err, r) => (err ? reject(err) : resolve(r))).end());
      expect(res).toMatchObject({ bytesReceived: 1 });
    } finally {
      await served.close();
    }
  });
});

describe('downloadBlob', () => {
  it('refuses bytes that do not match the name and leaves nothing behind', async () => {
    const served = await serveBlobs({
      ...blobService({} as never, TRUST_EVERY_CALLER),
      Get: (call) => {
        call.write({ hash: call.request.hash, size: 5, offset: 0, data: Buffer.from('wrong') });
        call.end();
      },
    });
    const out = join(work, 'dl');
    try {
      await expect(downloadBlob(served.client, sha256('right'), join(out, 'blob'))).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
      expect(readdirSync(out)).toEqual([]);
    } finally {
      await served.close();
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadBlob } from '../../common/blobs/download.js';
import { putBlobs } from '../../common/blobs/put-stream.js';
import { bytesSource, uploadBytes, uploadFiles } from '../../common/blobs/upload.js';
import { CHUNK_BYTES, sha256, sha256File } from '../../common/hashing.js';
import { startTestCoordinator, unaryCall, type TestCoordinator } from '../test-fixtures/harness.js';

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

  it('resumes a partial upload from where the store stopped', async () => {
    const data = Buffer.alloc(CHUNK_BYTES + 1000, 9);
    const hash = sha256(data);
    // What an upload cut off after 500 bytes leaves in the store.
    writeFileSync(join(t.dir, 'blobs', 'partial', hash), data.subarray(0, 500));
    const c = t.clients.blobs;
    const has = await unaryCall(c, c.Has, { hashes: [hash] });
    expect(has.partial[hash]).toBe(500);
    const r = await uploadBytes(c, data);
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

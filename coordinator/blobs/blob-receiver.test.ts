import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUT_CHUNK_BYTES } from '../../common/blobs/chunk-sizes.js';
import { sha256 } from '../../common/hashing.js';
import { BlobFiles } from './blob-files.js';
import { FileBlobReceiver } from './blob-receiver.js';
import { FileBlobStore, type FileBlobStoreOptions } from './blob-store.js';
import { realDiskSync } from './disk-sync.js';
import type { ChunkIn } from './chunk-rules.js';
import { GatedDisk, until } from './test-fixtures/gated-disk.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-receiver-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (options: FileBlobStoreOptions = {}) => FileBlobStore.open(join(dir, 'blobs'), options);

/** The chunks of `data` from `from`, `chunk` bytes each. */
function chunksOf(data: Buffer, from = 0, chunk = PUT_CHUNK_BYTES): ChunkIn[] {
  const hash = sha256(data);
  const out: ChunkIn[] = [];
  for (let at = from; at < data.length; at += chunk) out.push({ hash, size: data.length, offset: at, data: data.subarray(at, Math.min(at + chunk, data.length)) });
  return out;
}

function leftovers(): string[] {
  const tmp = readdirSync(join(dir, 'blobs', 'tmp')).flatMap((shard) => readdirSync(join(dir, 'blobs', 'tmp', shard)));
  return [...tmp, ...readdirSync(join(dir, 'blobs', 'partial'))];
}

describe('FileBlobReceiver', () => {
  it('acknowledges a batch of small blobs only once their files and folders are fsynced, and shows none before its own fsync', async () => {
    const disk = new GatedDisk();
    const store = await open({ disk });
    const blobs = [Buffer.from('one'), Buffer.from('two'), Buffer.alloc(0), randomBytes(70_000)];
    const receiver = store.receive();
    for (const b of blobs) await receiver.push({ hash: sha256(b), size: b.length, offset: 0, data: b });
    let acked: string[] | undefined;
    const finished = receiver.finish().then((stored) => (acked = stored));
    await until(() => disk.waiting === blobs.length);
    expect(acked).toBeUndefined();
    for (const b of blobs) expect(store.has(sha256(b))).toBe(false);

    disk.openFiles();
    // Renamed into place once fsynced, but not acknowledged before their folders are durable.
    await until(() => disk.waiting > 0);
    expect(disk.fileSyncs).toBe(blobs.length);
    expect(acked).toBeUndefined();

    disk.openDirs();
    await finished;
    expect(acked).toEqual(blobs.map((b) => sha256(b)));
    for (const b of blobs) expect((await store.readAll(sha256(b))).equals(b)).toBe(true);
    expect(disk.dirSyncs).toBeLessThanOrEqual(blobs.length);
    expect(leftovers()).toEqual([]);
  });

  it('acknowledges a blob of several chunks only after its fsync', async () => {
    const disk = new GatedDisk();
    const store = await open({ disk });
    const data = randomBytes(2 * PUT_CHUNK_BYTES + 123);
    const receiver = store.receive();
    for (const c of chunksOf(data)) await receiver.push(c);
    let acked = false;
    const finished = receiver.finish().then(() => (acked = true));
    await until(() => disk.waiting === 1);
    expect(acked).toBe(false);
    expect(store.has(sha256(data))).toBe(false);
    disk.openFiles();
    await until(() => disk.waiting > 0);
    expect(disk.fileSyncs).toBe(1);
    expect(acked).toBe(false);
    disk.openDirs();
    await finished;
    expect(acked).toBe(true);
    expect((await store.readAll(sha256(data))).equals(data)).toBe(true);
  });

  it('refuses a blob of several chunks whose bytes do not match its name, keeping nothing of it', async () => {
    const store = await open();
    const data = randomBytes(2 * PUT_CHUNK_BYTES + 5);
    const chunks = chunksOf(data);
    const bad = Buffer.from(chunks[1]!.data);
    bad[17] = bad[17]! ^ 0xff;
    chunks[1] = { ...chunks[1]!, data: bad };
    const receiver = store.receive();
    const pushed = (async () => {
      for (const c of chunks) await receiver.push(c);
    })();
    await expect(pushed.then(() => receiver.finish())).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
    await receiver.abort();
    expect(store.has(sha256(data))).toBe(false);
    expect(store.partialSize(sha256(data))).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('resumes a blob cut off after its first 4 MiB chunk, from the offset the store reports', async () => {
    const data = randomBytes(2 * PUT_CHUNK_BYTES + 777);
    const hash = sha256(data);
    const first = await open();
    const cut = first.receive();
    await cut.push(chunksOf(data)[0]!);
    await cut.abort();
    expect(first.has(hash)).toBe(false);
    expect(first.partialSize(hash)).toBe(PUT_CHUNK_BYTES);

    const reopened = await open();
    const resumed = reopened.receive();
    for (const c of chunksOf(data, reopened.partialSize(hash))) await resumed.push(c);
    expect(await resumed.finish()).toEqual([hash]);
    expect((await reopened.readAll(hash)).equals(data)).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it.each([
    ['from an offset inside a chunk', 1000],
    ['from an offset before what the store holds', 10],
  ])('resumes %s', async (_what, from) => {
    const data = randomBytes(3 * PUT_CHUNK_BYTES);
    const hash = sha256(data);
    const store = await open();
    const cut = store.receive();
    await cut.push({ hash, size: data.length, offset: 0, data: data.subarray(0, 5000) });
    await cut.abort();
    const resumed = store.receive();
    for (const c of chunksOf(data, from, 1024 * 1024 + 3)) await resumed.push(c);
    expect(await resumed.finish()).toEqual([hash]);
    expect((await store.readAll(hash)).equals(data)).toBe(true);
  });

  it('rejects a resume that would leave a gap', async () => {
    const data = randomBytes(PUT_CHUNK_BYTES + 10);
    const store = await open();
    const receiver = store.receive();
    await expect(receiver.push(chunksOf(data, 4096)[0]!)).rejects.toMatchObject({ code: 'NSML_E_INVALID_ARGUMENT' });
    await receiver.abort();
  });

  it('takes the same big blob from two streams at once: both succeed, one copy is kept', async () => {
    const store = await open();
    const data = randomBytes(2 * PUT_CHUNK_BYTES + 1);
    const a = store.receive();
    const b = store.receive();
    const chunks = chunksOf(data);
    for (const c of chunks) {
      await a.push(c);
      await b.push(c);
    }
    expect(await Promise.all([a.finish(), b.finish()])).toEqual([[sha256(data)], [sha256(data)]]);
    expect((await store.readAll(sha256(data))).equals(data)).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('picks an interrupted blob up again later in the same stream', async () => {
    const store = await open();
    const big = randomBytes(PUT_CHUNK_BYTES + 100);
    const small = Buffer.from('in between');
    const [c1, c2] = chunksOf(big);
    const receiver = store.receive();
    await receiver.push(c1!);
    await receiver.push({ hash: sha256(small), size: small.length, offset: 0, data: small });
    await receiver.push(c2!);
    expect(await receiver.finish()).toEqual([sha256(small), sha256(big)]);
    expect((await store.readAll(sha256(big))).equals(big)).toBe(true);
  });

  it('never waits for blobs it holds back itself when fewer may wait than a batch holds', async () => {
    const store = await open({ pendingBlobs: 2, batchBlobs: 100 });
    const receiver = store.receive();
    const blobs = Array.from({ length: 10 }, (_, i) => Buffer.from(`blob ${i}`));
    for (const b of blobs) await receiver.push({ hash: sha256(b), size: b.length, offset: 0, data: b });
    expect(await receiver.finish()).toEqual(blobs.map((b) => sha256(b)));
  });

  it('still makes verified blobs durable when its stream fails, and leaves a partial one resumable', async () => {
    const store = await open();
    const small = Buffer.from('complete');
    const big = randomBytes(PUT_CHUNK_BYTES + 1);
    const receiver = store.receive();
    await receiver.push({ hash: sha256(small), size: small.length, offset: 0, data: small });
    await receiver.push(chunksOf(big)[0]!);
    await receiver.abort();
    expect(store.has(sha256(small))).toBe(true);
    expect(store.partialSize(sha256(big))).toBe(PUT_CHUNK_BYTES);
  });

  it('removes temp files and partial uploads of stored blobs left by a crash when it opens', async () => {
    const store = await open();
    const data = Buffer.from('stored');
    await store.writeChunk({ hash: sha256(data), size: data.length, offset: 0, data });
    const tmp = join(dir, 'blobs', 'tmp', 'ab', 'ab00.1.1');
    writeFileSync(tmp, 'half');
    writeFileSync(join(dir, 'blobs', 'partial', sha256(data)), 'sto');
    writeFileSync(join(dir, 'blobs', 'partial', sha256('other')), 'oth');
    await open();
    expect(existsSync(tmp)).toBe(false);
    expect(readdirSync(join(dir, 'blobs', 'partial'))).toEqual([sha256('other')]);
    expect(readFileSync(join(dir, 'blobs', 'partial', sha256('other')), 'utf8')).toBe('oth');
  });
});

describe('FileBlobReceiver open files', () => {
  it('past the store-wide limit of open files, waits for its own blobs to be durable instead of opening more', async () => {
    const files = await BlobFiles.open(join(dir, 'blobs'), realDiskSync, 3);
    const receiver = new FileBlobReceiver(files, { writeBudgetBytes: 1 << 20, pendingBlobs: 100, batch: { blobs: 100, bytes: 1 << 30 } });
    const blobs = Array.from({ length: 30 }, (_, i) => Buffer.from(`blob number ${i}`));
    let peak = 0;
    for (const b of blobs) {
      await receiver.push({ hash: sha256(b), size: b.length, offset: 0, data: b });
      peak = Math.max(peak, files.openFiles.inUse);
    }
    expect(await receiver.finish()).toEqual(blobs.map((b) => sha256(b)));
    expect(peak).toBeLessThanOrEqual(3);
    expect(files.openFiles.inUse).toBe(0);
  });
});

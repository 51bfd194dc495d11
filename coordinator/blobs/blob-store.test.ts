import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../common/hashing.js';
import { FileBlobStore } from './blob-store.js';

let dir: string;
let store: FileBlobStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-blobs-'));
  store = await FileBlobStore.open(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileBlobStore', () => {
  it('stores a blob in chunks and makes it visible only when complete', async () => {
    const data = Buffer.from('hello world, this is a blob');
    const hash = sha256(data);
    expect(await store.writeChunk({ hash, size: data.length, offset: 0, data: data.subarray(0, 10) })).toEqual({ complete: false });
    expect(store.has(hash)).toBe(false);
    expect(store.partialSize(hash)).toBe(10);
    expect(await store.writeChunk({ hash, size: data.length, offset: 10, data: data.subarray(10) })).toEqual({ complete: true });
    expect(store.has(hash)).toBe(true);
    expect(store.size(hash)).toBe(data.length);
    expect((await store.readAll(hash)).equals(data)).toBe(true);
    expect(store.partialSize(hash)).toBe(0);
  });

  it('deduplicates: writing a stored blob again changes nothing', async () => {
    const data = Buffer.from('same');
    const hash = sha256(data);
    await store.writeChunk({ hash, size: 4, offset: 0, data });
    expect(await store.writeChunk({ hash, size: 4, offset: 0, data })).toEqual({ complete: true });
    expect(readdirSync(join(dir, 'partial'))).toEqual([]);
  });

  it('rejects bytes that do not hash to the name and discards them', async () => {
    const hash = sha256('expected');
    await expect(store.writeChunk({ hash, size: 5, offset: 0, data: Buffer.from('wrong') })).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
    expect(store.has(hash)).toBe(false);
    expect(store.partialSize(hash)).toBe(0);
  });

  it('resumes a partial upload after reopening, and rejects a gap', async () => {
    const data = Buffer.alloc(3000, 7);
    const hash = sha256(data);
    await store.writeChunk({ hash, size: 3000, offset: 0, data: data.subarray(0, 1000) });
    const reopened = await FileBlobStore.open(dir);
    expect(reopened.partialSize(hash)).toBe(1000);
    await expect(reopened.writeChunk({ hash, size: 3000, offset: 2000, data: data.subarray(2000) })).rejects.toMatchObject({ code: 'NSML_E_INVALID_ARGUMENT' });
    await reopened.writeChunk({ hash, size: 3000, offset: 1000, data: data.subarray(1000) });
    expect(reopened.has(hash)).toBe(true);
  });

  it('stores the empty blob', async () => {
    const hash = sha256('');
    expect(await store.writeChunk({ hash, size: 0, offset: 0, data: Buffer.alloc(0) })).toEqual({ complete: true });
    expect(store.size(hash)).toBe(0);
  });

  it.each([
    ['a bad name', { hash: 'xyz', size: 1, offset: 0, data: Buffer.from('a') }, 'NSML_E_INVALID_ARGUMENT'],
    ['a chunk past the size', { hash: sha256('a'), size: 1, offset: 1, data: Buffer.from('a') }, 'NSML_E_INVALID_ARGUMENT'],
    ['a negative size', { hash: sha256('a'), size: -1, offset: 0, data: Buffer.alloc(0) }, 'NSML_E_TOO_LARGE'],
  ])('rejects %s', async (_what, chunk, code) => {
    await expect(async () => store.writeChunk(chunk)).rejects.toMatchObject({ code });
  });
});

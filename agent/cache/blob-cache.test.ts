import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../common/hashing.js';
import { BlobCache, CACHED_MODE } from './blob-cache.js';
import { MemoryBlobSource, type BlobSource } from './blob-source.js';

describe('BlobCache', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const setup = () => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-cache-'));
    const source = new MemoryBlobSource();
    return { source, cache: new BlobCache(join(dir, 'blobs'), source) };
  };

  it('fetches a blob once, even when asked for it concurrently, and keeps it read-only', async () => {
    const { source, cache } = setup();
    const data = Buffer.from('weights');
    source.add(sha256(data), data);
    const [a, b] = await Promise.all([cache.ensure(sha256(data)), cache.ensure(sha256(data))]);
    expect(a).toBe(b);
    await cache.ensure(sha256(data));
    expect(source.fetches).toHaveLength(1);
    expect(readFileSync(a, 'utf8')).toBe('weights');
    expect(statSync(a).mode & 0o777).toBe(0o444);
  });

  it('fetches again when the cached copy has the wrong size', async () => {
    const { source, cache } = setup();
    const data = Buffer.from('abc');
    source.add(sha256(data), data);
    await cache.ensure(sha256(data));
    await cache.ensure(sha256(data), 4);
    expect(source.fetches).toHaveLength(2);
  });

  it('refuses a name that is not a sha256', async () => {
    const { cache } = setup();
    await expect(cache.ensure('../../etc/passwd')).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_INVALID' });
  });

  it('keeps nothing of a blob that arrived corrupt', async () => {
    const { source, cache } = setup();
    const hash = sha256('right');
    source.add(hash, Buffer.from('wrong'));
    await expect(cache.ensure(hash)).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
    expect(() => statSync(cache.path(hash))).toThrow();
  });
});

describe('BlobCache with a source that verifies', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets the source write the final name with the cached mode, and does not read the blob again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-cache-'));
    const calls: Array<{ dest: string; mode: number | undefined }> = [];
    const source: BlobSource = {
      verifies: true,
      fetch: async (_hash, dest, options) => {
        calls.push({ dest, mode: options?.mode });
        // Bytes that do not match: a verifying source is trusted, so the cache must not re-hash.
        writeFileSync(dest, 'trusted', { mode: options?.mode });
      },
      close: () => {},
    };
    const cache = new BlobCache(join(dir, 'blobs'), source);
    const hash = sha256('anything');
    expect(await cache.ensure(hash)).toBe(cache.path(hash));
    expect(calls).toEqual([{ dest: cache.path(hash), mode: CACHED_MODE }]);
  });
});

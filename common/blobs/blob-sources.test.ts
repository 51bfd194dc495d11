import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../hashing.js';
import { fileSource, readChunks } from './blob-sources.js';
import { ChunkBuffers } from './chunk-frame.js';
import { PUT_CHUNK_BYTES } from './chunk-sizes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-sources-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return out;
}

describe('readChunks and fileSource', () => {
  it.each([
    ['a small file in one read', 1000, 0, [1000]],
    ['a big file in PUT_CHUNK_BYTES chunks', 2 * PUT_CHUNK_BYTES + 5, 0, [PUT_CHUNK_BYTES, PUT_CHUNK_BYTES, 5]],
    ['a big file from a resume offset', 2 * PUT_CHUNK_BYTES, 100, [PUT_CHUNK_BYTES, PUT_CHUNK_BYTES - 100]],
    ['nothing past the end', 10, 10, []],
  ])('reads %s', async (_what, size, offset, lengths) => {
    const data = randomBytes(size);
    const path = join(dir, 'f');
    writeFileSync(path, data);
    const chunks = await collect(fileSource({ path, hash: sha256(data), size }).read(offset, new ChunkBuffers()));
    expect(chunks.map((c) => c.length)).toEqual(lengths);
    expect(Buffer.concat(chunks).equals(data.subarray(offset))).toBe(true);
  });

  it('stops at the end of a file that shrank (the sender then sees the size does not match)', async () => {
    const path = join(dir, 'f');
    writeFileSync(path, randomBytes(PUT_CHUNK_BYTES + 10));
    const chunks = await collect(readChunks(path, 0, 3 * PUT_CHUNK_BYTES));
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(PUT_CHUNK_BYTES + 10);
  });

  it('reads into the memory it is given', async () => {
    const path = join(dir, 'f');
    writeFileSync(path, randomBytes(PUT_CHUNK_BYTES));
    const buffers = new ChunkBuffers();
    for await (const c of fileSource({ path, hash: 'h', size: PUT_CHUNK_BYTES }).read(0, buffers)) expect(buffers.roomOf(c)).toBeDefined();
  });
});

import { describe, expect, it } from 'vitest';
import { loadProto } from '../proto/load.js';
import type { BlobChunk__Output } from '../proto/types.js';
import { ChunkBuffers, HEADER_ROOM, encodeChunk } from './chunk-frame.js';
import { PUT_CHUNK_BYTES } from './chunk-sizes.js';

const decode = loadProto().nsml.v1.BlobService.service.Put.requestDeserialize as (b: Buffer) => BlobChunk__Output;
const hash = 'ab'.repeat(32);

describe('encodeChunk', () => {
  it.each([
    ['an empty blob', 0, 0, 0],
    ['a small chunk', 3, 0, 3],
    ['a chunk at a one-byte offset', 300, 127, 100],
    ['a chunk at a two-byte offset', 300, 128, 100],
    ['a blob past 4 GiB', 2 ** 33 + 5, 2 ** 32 + 1, 17],
    ['a blob near the largest safe size', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 10, 10],
  ])('writes what protobuf reads back: %s', (_what, size, offset, length) => {
    const data = Buffer.alloc(length, 7);
    const got = decode(encodeChunk({ hash, size, offset }, data));
    expect(got).toMatchObject({ hash, size, offset });
    expect(Buffer.from(got.data).equals(data)).toBe(true);
  });

  it('frames a chunk read into a ChunkBuffers buffer in place, without copying its data', () => {
    const buffers = new ChunkBuffers();
    const data = buffers.alloc(PUT_CHUNK_BYTES);
    data.fill(9);
    const frame = encodeChunk({ hash, size: PUT_CHUNK_BYTES * 3, offset: PUT_CHUNK_BYTES }, data, buffers.roomOf(data));
    expect(frame.buffer).toBe(data.buffer);
    expect(frame.byteOffset + frame.length).toBe(data.byteOffset + data.length);
    const got = decode(frame);
    expect(got.offset).toBe(PUT_CHUNK_BYTES);
    expect(Buffer.from(got.data).equals(data)).toBe(true);
  });

  it('copies a chunk that has no room before it', () => {
    const data = Buffer.from('plain');
    const frame = encodeChunk({ hash, size: 5, offset: 0 }, data);
    expect(decode(frame).data.toString()).toBe('plain');
    frame.fill(0);
    expect(data.toString()).toBe('plain');
  });

  it('refuses a negative offset', () => {
    expect(() => encodeChunk({ hash, size: 5, offset: -1 }, Buffer.alloc(1))).toThrow(RangeError);
  });
});

describe('ChunkBuffers', () => {
  it('reuses a big chunk buffer once given back, and keeps at most `keep` of them', () => {
    const buffers = new ChunkBuffers(1);
    const a = buffers.alloc(PUT_CHUNK_BYTES);
    const b = buffers.alloc(PUT_CHUNK_BYTES);
    expect(a.byteOffset).toBe(HEADER_ROOM);
    buffers.release(a);
    buffers.release(b);
    const c = buffers.alloc(PUT_CHUNK_BYTES / 2);
    expect(c.buffer).toBe(a.buffer);
    expect(buffers.alloc(PUT_CHUNK_BYTES).buffer).not.toBe(b.buffer);
  });

  it('gives a small chunk its own buffer with room, and does not keep it', () => {
    const buffers = new ChunkBuffers();
    const small = buffers.alloc(100);
    expect(buffers.roomOf(small)?.length).toBe(HEADER_ROOM + 100);
    buffers.release(small);
    expect(buffers.roomOf(small)).toBeUndefined();
    expect(buffers.alloc(100).buffer).not.toBe(small.buffer);
  });
});

import { PUT_CHUNK_BYTES } from './chunk-sizes.js';

/**
 * BlobChunk messages encoded by hand, in front of their data: a chunk read into a buffer from
 * `ChunkBuffers` leaves room before its bytes, so the whole message is framed without copying
 * the data (protobufjs would copy it into a fresh buffer). Field numbers follow
 * proto/nsml/v1/blob.proto: 1 hash (string), 2 size, 3 offset (int64), 4 data (bytes).
 */

/** Room before a chunk's data for its header: tags, a 64-byte hash and three varints. */
export const HEADER_ROOM = 128;

const TAG_HASH = 0x0a;
const TAG_SIZE = 0x10;
const TAG_OFFSET = 0x18;
const TAG_DATA = 0x22;

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

function writeVarint(buf: Uint8Array, at: number, n: number): number {
  let v = n;
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[at++] = v;
  return at;
}

export interface ChunkFields {
  hash: string;
  size: number;
  offset: number;
}

/** Bytes of the header (every field but the data's bytes) of a chunk with `dataLength` bytes. */
export function headerLength(c: ChunkFields, dataLength: number): number {
  if (!Number.isSafeInteger(c.size) || c.size < 0 || !Number.isSafeInteger(c.offset) || c.offset < 0) {
    throw new RangeError(`a chunk's size and offset are whole numbers >= 0; got size ${c.size}, offset ${c.offset}`);
  }
  const hash = Buffer.byteLength(c.hash, 'utf8');
  return 1 + varintLength(hash) + hash
    + (c.size > 0 ? 1 + varintLength(c.size) : 0)
    + (c.offset > 0 ? 1 + varintLength(c.offset) : 0)
    + 1 + varintLength(dataLength);
}

/** Writes the header of `c` into `buf` at `at` (length from headerLength); returns where the data goes. */
export function writeHeader(buf: Buffer, at: number, c: ChunkFields, dataLength: number): number {
  let p = at;
  buf[p++] = TAG_HASH;
  p = writeVarint(buf, p, Buffer.byteLength(c.hash, 'utf8'));
  p += buf.write(c.hash, p, 'utf8');
  if (c.size > 0) {
    buf[p++] = TAG_SIZE;
    p = writeVarint(buf, p, c.size);
  }
  if (c.offset > 0) {
    buf[p++] = TAG_OFFSET;
    p = writeVarint(buf, p, c.offset);
  }
  buf[p++] = TAG_DATA;
  return writeVarint(buf, p, dataLength);
}

/**
 * The encoded chunk: in place when `data` lies in a buffer with HEADER_ROOM free before it
 * (`room`), otherwise in a new buffer with one copy of the data.
 */
export function encodeChunk(c: ChunkFields, data: Uint8Array, room?: Buffer): Buffer {
  const head = headerLength(c, data.length);
  if (room && data.buffer === room.buffer && data.byteOffset - room.byteOffset >= head) {
    const start = data.byteOffset - room.byteOffset - head;
    writeHeader(room, start, c, data.length);
    return room.subarray(start, start + head + data.length);
  }
  const out = Buffer.allocUnsafe(head + data.length);
  out.set(data, writeHeader(out, 0, c, data.length));
  return out;
}

/** Chunks at least this big are read into reused buffers; smaller ones into their own. */
const POOLED_BYTES = PUT_CHUNK_BYTES / 4;

/**
 * Memory for chunks read from disk, with HEADER_ROOM before each so it is sent without a copy.
 * Big chunks reuse buffers of HEADER_ROOM + PUT_CHUNK_BYTES: fresh memory for every chunk costs
 * page faults and garbage collection per byte sent. A few stay free between uploads; the rest
 * are left to the collector.
 */
export class ChunkBuffers {
  private readonly free: Buffer[] = [];
  private readonly owner = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(private readonly keep = 4) {}

  /** `bytes` to read into, with room for a header before them. */
  alloc(bytes: number): Buffer {
    const pooled = bytes >= POOLED_BYTES && bytes <= PUT_CHUNK_BYTES;
    const buf = (pooled ? this.free.pop() : undefined) ?? Buffer.allocUnsafeSlow(HEADER_ROOM + (pooled ? PUT_CHUNK_BYTES : bytes));
    this.owner.set(buf.buffer, buf);
    return buf.subarray(HEADER_ROOM, HEADER_ROOM + bytes);
  }

  /** The whole buffer that `data` was allocated in, when it came from here. */
  roomOf(data: Uint8Array): Buffer | undefined {
    return this.owner.get(data.buffer);
  }

  /** Gives the buffer holding `data` back; call it only once nothing reads that buffer any more. */
  release(data: Uint8Array): void {
    const buf = this.owner.get(data.buffer);
    if (!buf) return;
    this.owner.delete(data.buffer);
    if (buf.length === HEADER_ROOM + PUT_CHUNK_BYTES && this.free.length < this.keep) this.free.push(buf);
  }
}

/** The buffers every upload of this process shares. */
export const chunkBuffers = new ChunkBuffers();

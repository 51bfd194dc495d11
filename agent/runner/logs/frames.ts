/**
 * The frames of output.log, as written by agent/runner/supervisor.py: a 13-byte header
 * (stream byte 'o' or 'e', uint64 milliseconds since the epoch, uint32 length, big-endian)
 * followed by that many bytes of output.
 */
export const HEADER_BYTES = 13;

export type OutputStream = 'stdout' | 'stderr';

export interface Frame {
  stream: OutputStream;
  tsMs: number;
  data: Buffer;
  /** Where the next frame starts, relative to the buffer that was parsed. */
  end: number;
}

const STREAMS: Record<number, OutputStream> = { 0x6f: 'stdout', 0x65: 'stderr' };

/** The frames that are complete in `buf`; an incomplete frame at the end is left for later. */
export function parseFrames(buf: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (buf.length - at >= HEADER_BYTES) {
    const stream = STREAMS[buf[at]!];
    if (!stream) throw new Error(`output.log is damaged: unknown stream byte ${buf[at]} at offset ${at}`);
    const tsMs = Number(buf.readBigUInt64BE(at + 1));
    const length = buf.readUInt32BE(at + 9);
    const end = at + HEADER_BYTES + length;
    if (end > buf.length) break;
    frames.push({ stream, tsMs, data: buf.subarray(at + HEADER_BYTES, end), end });
    at = end;
  }
  return frames;
}

/** One frame's bytes, as the supervisor writes them (for tests). */
export function encodeFrame(stream: OutputStream, tsMs: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stream === 'stdout' ? 0x6f : 0x65;
  header.writeBigUInt64BE(BigInt(tsMs), 1);
  header.writeUInt32BE(body.length, 9);
  return Buffer.concat([header, body]);
}

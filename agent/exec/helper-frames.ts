import { ErrorCodes, NsmlError } from '../../common/errors.js';

/**
 * The frames between the agent and agent/exec/exec-helper.py: one type byte, the payload's
 * length as a big-endian uint32, the payload. The helper's docstring lists the types.
 */
export type HelperFrameType =
  | 'c' // the command (JSON), first
  | 'i' // stdin bytes
  | 'E' // stdin end
  | 'w' // terminal size: rows, cols as uint16
  | 'k' // a signal name
  | 'o' // stdout bytes
  | 'e' // stderr bytes
  | 'x'; // the end (JSON)

export interface HelperFrame {
  type: HelperFrameType;
  payload: Buffer;
}

const HEADER_BYTES = 5;
/** Larger frames are refused (the helper has the same limit). */
export const MAX_HELPER_FRAME_BYTES = 16 * 1024 * 1024;
const TYPES = new Set<string>(['c', 'i', 'E', 'w', 'k', 'o', 'e', 'x']);

export function encodeHelperFrame(type: HelperFrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length > MAX_HELPER_FRAME_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `an exec frame of ${body.length} bytes is over the limit of ${MAX_HELPER_FRAME_BYTES}; send it in parts`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** The size frame's payload: rows and cols, each clamped to 0..65535. */
export function sizePayload(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.max(0, Math.min(65535, Math.trunc(rows))), 0);
  b.writeUInt16BE(Math.max(0, Math.min(65535, Math.trunc(cols))), 2);
  return b;
}

/** Splits a byte stream into frames, whatever the chunk boundaries. */
export class HelperFrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`; throws NSML_E_INVALID_ARGUMENT on an unknown type or an oversized frame. */
  push(chunk: Buffer): HelperFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: HelperFrame[] = [];
    let at = 0;
    while (this.buffered.length - at >= HEADER_BYTES) {
      const type = String.fromCharCode(this.buffered[at]!);
      const length = this.buffered.readUInt32BE(at + 1);
      if (!TYPES.has(type)) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `unknown exec frame type ${JSON.stringify(type)}`);
      if (length > MAX_HELPER_FRAME_BYTES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `an exec frame of ${length} bytes is over the limit of ${MAX_HELPER_FRAME_BYTES}`);
      }
      if (this.buffered.length - at < HEADER_BYTES + length) break;
      frames.push({ type: type as HelperFrameType, payload: this.buffered.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length) });
      at += HEADER_BYTES + length;
    }
    this.buffered = at === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(at);
    return frames;
  }

  /** Bytes of a frame not yet complete. */
  get pendingBytes(): number {
    return this.buffered.length;
  }
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';

/**
 * Cuts a byte stream into `\n`-terminated lines (UTF-8 decoded), refusing any line longer than
 * `maxLineBytes`. Chunks are kept as buffers until a newline arrives, so a large line costs one
 * concatenation.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** The complete lines in this chunk (and before it). Throws NSML_E_TOO_LARGE past the limit. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      this.check(this.pending + piece.length);
      if (this.parts.length === 0) {
        lines.push(piece.toString('utf8'));
      } else {
        this.parts.push(piece);
        lines.push(Buffer.concat(this.parts, this.pending + piece.length).toString('utf8'));
        this.parts = [];
        this.pending = 0;
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.check(this.pending + rest.length);
      this.parts.push(rest);
      this.pending += rest.length;
    }
    return lines;
  }

  /** Bytes received after the last newline. */
  get buffered(): number {
    return this.pending;
  }

  private check(length: number): void {
    if (length > this.maxLineBytes) {
      throw new NsmlError(ErrorCodes.TOO_LARGE, `a line is longer than ${this.maxLineBytes} bytes; split messages below that`);
    }
  }
}

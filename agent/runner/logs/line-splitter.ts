import type { OutputStream } from './frames.js';

export interface RawLine {
  stream: OutputStream;
  tsMs: number;
  text: string;
}

/** The unfinished line of each stream, serializable so that splitting can resume after a restart. */
export interface SplitterState {
  stdout: string;
  stderr: string;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * The text of one line: without trailing carriage returns, and of a progress line (several
 * updates separated by '\r') only what follows the last '\r', as a terminal would show it.
 */
export function collapseCarriageReturns(raw: Buffer): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === CR) end -= 1;
  const start = end === 0 ? 0 : raw.lastIndexOf(CR, end - 1) + 1;
  return raw.subarray(start, end).toString('utf8');
}

/** The largest cut ≤ `max` that does not split a UTF-8 character. */
function utf8Cut(buf: Buffer, max: number): number {
  let cut = max;
  while (cut > max - 4 && cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut -= 1;
  return cut > 0 ? cut : max;
}

/**
 * Splits the bytes of stdout and stderr into lines, each stream on its own. A line longer
 * than `maxLineBytes` is cut into pieces of that size (at a character boundary); of an
 * unfinished progress line, only the part from its last '\r' is kept. The result depends only
 * on the sequence of frames pushed, which is fixed in output.log, so re-reading the file from
 * the same point gives the same lines.
 */
export class LineSplitter {
  private readonly partial: Record<OutputStream, Buffer>;

  constructor(private readonly maxLineBytes: number, state?: SplitterState) {
    this.partial = {
      stdout: Buffer.from(state?.stdout ?? '', 'base64'),
      stderr: Buffer.from(state?.stderr ?? '', 'base64'),
    };
  }

  state(): SplitterState {
    return { stdout: this.partial.stdout.toString('base64'), stderr: this.partial.stderr.toString('base64') };
  }

  push(stream: OutputStream, data: Buffer, tsMs: number): RawLine[] {
    const out: RawLine[] = [];
    let buf = this.partial[stream].length > 0 ? Buffer.concat([this.partial[stream], data]) : data;
    let from = 0;
    for (let nl = buf.indexOf(NL, from); nl >= 0; nl = buf.indexOf(NL, from)) {
      this.emitLong(out, stream, buf.subarray(from, nl), tsMs, true);
      from = nl + 1;
    }
    buf = buf.subarray(from);
    if (buf.length > this.maxLineBytes) buf = this.emitLong(out, stream, dropOverwritten(buf), tsMs, false);
    this.partial[stream] = Buffer.from(buf);
    return out;
  }

  /** At the very end of the output: the unfinished lines, if any. */
  flush(tsMs: number): RawLine[] {
    const out: RawLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream].length > 0) this.emitLong(out, stream, this.partial[stream], tsMs, true);
      this.partial[stream] = Buffer.alloc(0);
    }
    return out;
  }

  /** Emits `line` in pieces of at most maxLineBytes; returns what is left when `all` is false. */
  private emitLong(out: RawLine[], stream: OutputStream, line: Buffer, tsMs: number, all: boolean): Buffer {
    let rest = line;
    while (rest.length > this.maxLineBytes) {
      const cut = utf8Cut(rest, this.maxLineBytes);
      out.push({ stream, tsMs, text: collapseCarriageReturns(rest.subarray(0, cut)) });
      rest = rest.subarray(cut);
    }
    if (!all) return rest;
    out.push({ stream, tsMs, text: collapseCarriageReturns(rest) });
    return Buffer.alloc(0);
  }
}

/** Of an unfinished line, the part before its last '\r' (not counting trailing ones) will never show. */
function dropOverwritten(buf: Buffer): Buffer {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === CR) end -= 1;
  const cr = end === 0 ? -1 : buf.lastIndexOf(CR, end - 1);
  return cr > 0 ? buf.subarray(cr) : buf;
}

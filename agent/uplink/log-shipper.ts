import { parseFrames, type OutputStream } from '../runner/logs/frames.js';
import { LineSplitter, type RawLine, type SplitterState } from '../runner/logs/line-splitter.js';
import { NumberedFile, type NumberedPosition } from './numbered-file.js';

/** A point of output.log from which splitting can resume: after `seq` lines, at a frame boundary. */
export interface LogCursor {
  offset: number;
  seq: number;
  splitter: SplitterState;
}

/** What is persisted (logpos.json) so that a restarted agent resumes without re-reading everything. */
export type LogPosition = NumberedPosition<LogCursor>;

export interface ShippedLine {
  seq: number;
  tsMs: number;
  stream: OutputStream;
  text: string;
}

export interface LogShipperOptions {
  maxLineBytes: number;
  /** How much of the file one read takes; default 256 KiB. */
  readBytes?: number;
  /** A resume point is remembered every this many bytes of output; default 256 KiB. */
  checkpointBytes?: number;
}

const ZERO: LogCursor = { offset: 0, seq: 0, splitter: { stdout: '', stderr: '' } };

/**
 * Turns one rank's output.log into numbered lines. Numbers depend only on the file's content:
 * seq N is always the same line, whoever reads it and however often, so a line sent twice is
 * recognised by the coordinator as the same line. `next` hands out lines after `sentSeq`;
 * `rewind` goes back to what the coordinator acknowledged (re-reading from the nearest
 * remembered point); `ack` lets older points go.
 */
export class LogShipper extends NumberedFile<LogCursor, ShippedLine> {
  private splitter: LineSplitter;
  private flushed = false;
  /** Set when output.log cannot be parsed past some point; what follows is not shipped. */
  damage: string | undefined;

  constructor(private readonly file: string, private readonly options: LogShipperOptions, from?: LogPosition) {
    super(file, ZERO, from, { readBytes: options.readBytes ?? 256 * 1024, checkpointBytes: options.checkpointBytes ?? 256 * 1024 }, copy);
    this.splitter = new LineSplitter(options.maxLineBytes, this.cursor.splitter);
  }

  /**
   * Up to `maxLines` lines (and about `maxBytes` of text) after `sentSeq`, marked as sent.
   * `final` says the output is complete: at its end, an unfinished last line is a line too.
   */
  next(maxLines: number, maxBytes: number, final: boolean): ShippedLine[] {
    while (this.ready.length < maxLines && this.parseMore(final));
    let n = 0;
    let bytes = 0;
    while (n < maxLines && n < this.ready.length && (n === 0 || bytes + this.ready[n]!.text.length <= maxBytes)) {
      bytes += this.ready[n]!.text.length;
      n += 1;
    }
    const out = this.ready.splice(0, n);
    if (out.length > 0) this.sentSeq = out[out.length - 1]!.seq;
    return out;
  }

  /** True once the complete output was read and every line of it handed out. */
  drained(final: boolean): boolean {
    if (!final) return false;
    while (this.ready.length === 0 && this.parseMore(true));
    return this.flushed && this.ready.length === 0;
  }

  /** The number of the last line, once `drained(true)`. */
  get lastSeq(): number {
    return this.cursor.seq;
  }

  protected override rewound(): void {
    this.splitter = new LineSplitter(this.options.maxLineBytes, this.cursor.splitter);
    this.flushed = false;
  }

  /** Parses one read's worth of frames; false when the file has nothing more for now. */
  private parseMore(final: boolean): boolean {
    if (this.flushed) return false;
    const buf = this.damage ? Buffer.alloc(0) : this.read();
    let frames: ReturnType<typeof parseFrames> = [];
    try {
      frames = buf.length > 0 ? parseFrames(buf) : [];
    } catch (err) {
      this.damage = `${this.file}: ${(err as Error).message}`;
    }
    if (frames.length === 0) {
      if (!final) return false;
      this.accept(this.splitter.flush(Date.now()));
      this.flushed = true;
      return true;
    }
    let consumed = 0;
    for (const f of frames) {
      this.accept(this.splitter.push(f.stream, f.data, f.tsMs));
      this.cursor.offset += f.end - consumed;
      consumed = f.end;
      this.maybeCheckpoint();
    }
    return true;
  }

  private accept(lines: RawLine[]): void {
    for (const l of lines) {
      this.cursor.seq += 1;
      if (this.cursor.seq > this.sentSeq) this.ready.push({ seq: this.cursor.seq, tsMs: l.tsMs, stream: l.stream, text: l.text });
    }
  }

  private maybeCheckpoint(): void {
    this.passed(() => ({ offset: this.cursor.offset, seq: this.cursor.seq, splitter: this.splitter.state() }));
  }
}

function copy(c: LogCursor): LogCursor {
  return { offset: c.offset, seq: c.seq, splitter: { ...c.splitter } };
}

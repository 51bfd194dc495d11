import { closeSync, openSync, readSync } from 'node:fs';
import { parseFrames, type OutputStream } from './frames.js';
import { LineSplitter, type RawLine, type SplitterState } from './line-splitter.js';

/** A point of output.log from which splitting can resume: after `seq` lines, at a frame boundary. */
export interface LogCursor {
  offset: number;
  seq: number;
  splitter: SplitterState;
}

/** What is persisted (logpos.json) so that a restarted agent resumes without re-reading everything. */
export interface LogPosition {
  acked: number;
  checkpoint: LogCursor;
}

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
export class LogShipper {
  sentSeq: number;
  ackedSeq: number;
  private cursor: LogCursor;
  private splitter: LineSplitter;
  private checkpoints: LogCursor[];
  private ready: ShippedLine[] = [];
  private flushed = false;
  private fd: number | undefined;
  private buffer: Buffer | undefined;
  /** Set when output.log cannot be parsed past some point; what follows is not shipped. */
  damage: string | undefined;
  private readonly readBytes: number;
  private readonly checkpointBytes: number;

  constructor(private readonly path: string, private readonly options: LogShipperOptions, from?: LogPosition) {
    this.readBytes = options.readBytes ?? 256 * 1024;
    this.checkpointBytes = options.checkpointBytes ?? 256 * 1024;
    const start = from && from.checkpoint.seq <= from.acked ? from.checkpoint : ZERO;
    this.checkpoints = start === ZERO ? [ZERO] : [ZERO, start];
    this.cursor = copy(start);
    this.splitter = new LineSplitter(options.maxLineBytes, start.splitter);
    this.ackedSeq = from?.acked ?? 0;
    this.sentSeq = this.ackedSeq;
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

  /** Hands out lines again from `seq + 1` (what the coordinator has stored up to). */
  rewind(seq: number): void {
    const target = Math.max(0, seq);
    this.ackedSeq = target;
    if (target === this.sentSeq) return;
    let best = this.checkpoints[0]!;
    for (const c of this.checkpoints) if (c.seq <= target && c.seq >= best.seq) best = c;
    this.cursor = copy(best);
    this.splitter = new LineSplitter(this.options.maxLineBytes, best.splitter);
    this.ready = [];
    this.flushed = false;
    this.sentSeq = target;
  }

  /** The coordinator stored every line up to `seq`. */
  ack(seq: number): void {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    let base = 0;
    for (let i = 0; i < this.checkpoints.length; i += 1) if (this.checkpoints[i]!.seq <= seq) base = i;
    if (base > 1) this.checkpoints.splice(1, base - 1);
  }

  /** The point to persist: acknowledged lines and the latest resume point before them. */
  position(): LogPosition {
    let best = this.checkpoints[0]!;
    for (const c of this.checkpoints) if (c.seq <= this.ackedSeq && c.seq >= best.seq) best = c;
    return { acked: this.ackedSeq, checkpoint: copy(best) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Parses one read's worth of frames; false when the file has nothing more for now. */
  private parseMore(final: boolean): boolean {
    if (this.flushed) return false;
    const buf = this.damage ? Buffer.alloc(0) : this.read();
    let frames: ReturnType<typeof parseFrames> = [];
    try {
      frames = buf.length > 0 ? parseFrames(buf) : [];
    } catch (err) {
      this.damage = `${this.path}: ${(err as Error).message}`;
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
    const last = this.checkpoints[this.checkpoints.length - 1]!;
    if (this.cursor.offset - last.offset < this.checkpointBytes) return;
    this.checkpoints.push({ offset: this.cursor.offset, seq: this.cursor.seq, splitter: this.splitter.state() });
  }

  private read(): Buffer {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        return Buffer.alloc(0);
      }
    }
    this.buffer ??= Buffer.allocUnsafe(this.readBytes);
    const buf = this.buffer;
    const n = readSync(this.fd, buf, 0, buf.length, this.cursor.offset);
    return buf.subarray(0, n);
  }
}

function copy(c: LogCursor): LogCursor {
  return { offset: c.offset, seq: c.seq, splitter: { ...c.splitter } };
}

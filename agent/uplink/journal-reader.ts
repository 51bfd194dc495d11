import { closeSync, openSync, readSync } from 'node:fs';

/** A point of a journal from which reading can resume: after `seq` entries, at a line start. */
export interface JournalCursor {
  offset: number;
  seq: number;
}

/** What is persisted (telpos.json) so that a restarted agent resumes without re-reading everything. */
export interface JournalPosition {
  acked: number;
  checkpoint: JournalCursor;
}

/** One entry: its number and its text, or `tooLong` when the line was over the limit (text empty). */
export interface JournalEntry {
  seq: number;
  text: string;
  tooLong: boolean;
}

export interface JournalReaderOptions {
  maxLineBytes: number;
  /** How much of the file one read takes; default 256 KiB. */
  readBytes?: number;
  /** A resume point is remembered every this many bytes; default 256 KiB. */
  checkpointBytes?: number;
}

const NL = 0x0a;
const ZERO: JournalCursor = { offset: 0, seq: 0 };

/**
 * Turns one rank's telemetry journal into numbered entries. The journal is written by the SDK
 * (and by the agent for older clients) with appends of `\n{json}\n`: blank lines are skipped, and
 * a line cut short by a failed write (a full disk) is ended by the next append's leading newline,
 * so it damages only itself. Numbers depend only on the file's content: entry N is the same
 * entry whoever reads it and however often, so the coordinator recognises a repeat. An unfinished
 * last line is left for later (the writer is still at it); `final` reads it as an entry.
 */
export class JournalReader {
  sentSeq: number;
  ackedSeq: number;
  private cursor: JournalCursor;
  private checkpoints: JournalCursor[];
  private ready: JournalEntry[] = [];
  private fd: number | undefined;
  private buffer: Buffer | undefined;
  private readonly readBytes: number;
  private readonly checkpointBytes: number;

  constructor(private readonly path: string, private readonly options: JournalReaderOptions, from?: JournalPosition) {
    this.readBytes = Math.max(options.readBytes ?? 256 * 1024, options.maxLineBytes + 2);
    this.checkpointBytes = options.checkpointBytes ?? 256 * 1024;
    const start = from && from.checkpoint.seq <= from.acked ? from.checkpoint : ZERO;
    this.checkpoints = start === ZERO ? [{ ...ZERO }] : [{ ...ZERO }, { ...start }];
    this.cursor = { ...start };
    this.ackedSeq = from?.acked ?? 0;
    this.sentSeq = this.ackedSeq;
  }

  /** Up to `max` entries after `sentSeq`, marked as sent. */
  next(max: number, final = false): JournalEntry[] {
    while (this.ready.length < max && this.parseMore(final));
    const out = this.ready.splice(0, max);
    if (out.length > 0) this.sentSeq = out[out.length - 1]!.seq;
    return out;
  }

  /** True when the file has, for now, no entry after `sentSeq` (reads to find out). */
  caughtUp(final = false): boolean {
    while (this.ready.length === 0 && this.parseMore(final));
    return this.ready.length === 0;
  }

  /** Hands out entries again from `seq + 1` (what the coordinator stored up to). */
  rewind(seq: number): void {
    const target = Math.max(0, seq);
    this.ackedSeq = target;
    if (target === this.sentSeq) return;
    let best = this.checkpoints[0]!;
    for (const c of this.checkpoints) if (c.seq <= target && c.seq >= best.seq) best = c;
    this.cursor = { ...best };
    this.ready = [];
    this.sentSeq = target;
  }

  /** The coordinator stored every entry up to `seq`. */
  ack(seq: number): void {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    let base = 0;
    for (let i = 0; i < this.checkpoints.length; i += 1) if (this.checkpoints[i]!.seq <= seq) base = i;
    if (base > 1) this.checkpoints.splice(1, base - 1);
  }

  /** The point to persist: acknowledged entries and the latest resume point before them. */
  position(): JournalPosition {
    let best = this.checkpoints[0]!;
    for (const c of this.checkpoints) if (c.seq <= this.ackedSeq && c.seq >= best.seq) best = c;
    return { acked: this.ackedSeq, checkpoint: { ...best } };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Parses one read's worth of lines; false when the file has nothing more for now. */
  private parseMore(final: boolean): boolean {
    const buf = this.read();
    if (buf.length === 0) return false;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl < 0) break;
      this.accept(buf.subarray(start, nl), true);
      start = nl + 1;
    }
    if (start > 0) return true;
    if (buf.length > this.options.maxLineBytes) return this.skipLong(final);
    if (!final) return false;
    this.accept(buf, false);
    return true;
  }

  private accept(line: Buffer, ended: boolean): void {
    this.cursor.offset += line.length + (ended ? 1 : 0);
    if (line.length > 0 && !(line.length === 1 && line[0] === 0x0d)) {
      this.cursor.seq += 1;
      if (this.cursor.seq > this.sentSeq) {
        const tooLong = line.length > this.options.maxLineBytes;
        this.ready.push({ seq: this.cursor.seq, text: tooLong ? '' : line.toString('utf8'), tooLong });
      }
    }
    this.maybeCheckpoint();
  }

  /** Moves past one over-long line (which may span several reads) as one entry, once it ended. */
  private skipLong(final: boolean): boolean {
    const buf = this.buffer!;
    let offset = this.cursor.offset;
    let ended = false;
    for (;;) {
      const n = readSync(this.fd!, buf, 0, buf.length, offset);
      if (n === 0) break;
      const nl = buf.subarray(0, n).indexOf(NL);
      if (nl >= 0) {
        offset += nl + 1;
        ended = true;
        break;
      }
      offset += n;
    }
    if (!ended && !final) return false;
    this.cursor.offset = offset;
    this.cursor.seq += 1;
    if (this.cursor.seq > this.sentSeq) this.ready.push({ seq: this.cursor.seq, text: '', tooLong: true });
    this.maybeCheckpoint();
    return true;
  }

  private maybeCheckpoint(): void {
    const last = this.checkpoints[this.checkpoints.length - 1]!;
    if (this.cursor.offset - last.offset < this.checkpointBytes) return;
    this.checkpoints.push({ ...this.cursor });
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
    const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.cursor.offset);
    return this.buffer.subarray(0, n);
  }
}

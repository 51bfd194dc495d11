import { NumberedFile, type NumberedPosition } from './numbered-file.js';
import type { ResumePoint } from './resume-points.js';

/** A point of a journal from which reading can resume: after `seq` entries, at a line start. */
export type JournalCursor = ResumePoint;

/** What is persisted (telpos.json) so that a restarted agent resumes without re-reading everything. */
export type JournalPosition = NumberedPosition<JournalCursor>;

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
export class JournalReader extends NumberedFile<JournalCursor, JournalEntry> {
  constructor(path: string, private readonly options: JournalReaderOptions, from?: JournalPosition) {
    const readBytes = Math.max(options.readBytes ?? 256 * 1024, options.maxLineBytes + 2);
    super(path, ZERO, from, { readBytes, checkpointBytes: options.checkpointBytes ?? 256 * 1024 }, (c) => ({ ...c }));
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
    let offset = this.cursor.offset;
    let ended = false;
    for (;;) {
      const buf = this.readAt(offset);
      if (buf.length === 0) break;
      const nl = buf.indexOf(NL);
      if (nl >= 0) {
        offset += nl + 1;
        ended = true;
        break;
      }
      offset += buf.length;
    }
    if (!ended && !final) return false;
    this.cursor.offset = offset;
    this.cursor.seq += 1;
    if (this.cursor.seq > this.sentSeq) this.ready.push({ seq: this.cursor.seq, text: '', tooLong: true });
    this.maybeCheckpoint();
    return true;
  }

  private maybeCheckpoint(): void {
    this.passed(() => this.cursor);
  }
}

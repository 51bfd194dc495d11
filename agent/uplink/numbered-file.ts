import { closeSync, openSync, readSync } from 'node:fs';
import { ResumePoints, type ResumePoint } from './resume-points.js';

/** What is persisted so that a restarted agent resumes without re-reading everything. */
export interface NumberedPosition<C extends ResumePoint> {
  acked: number;
  checkpoint: C;
}

/**
 * A file read as numbered entries (a rank's output.log as lines, its telemetry journal as
 * entries): the numbers depend only on the file's content, so entry N is the same whoever reads
 * it and however often, and the coordinator recognises a repeat. Subclasses parse; this keeps
 * what was sent and acknowledged, the resume points, and the reads.
 */
export abstract class NumberedFile<C extends ResumePoint, E extends { seq: number }> {
  sentSeq: number;
  ackedSeq: number;
  protected cursor: C;
  protected ready: E[] = [];
  private readonly points: ResumePoints<C>;
  private fd: number | undefined;
  private buffer: Buffer | undefined;
  private readonly readBytes: number;

  constructor(
    private readonly path: string,
    zero: C,
    from: NumberedPosition<C> | undefined,
    options: { readBytes: number; checkpointBytes: number },
    private readonly copy: (c: C) => C,
  ) {
    this.readBytes = options.readBytes;
    const start = from && from.checkpoint.seq <= from.acked ? from.checkpoint : undefined;
    this.points = new ResumePoints(zero, start, options.checkpointBytes, copy);
    this.cursor = copy(start ?? zero);
    this.ackedSeq = from?.acked ?? 0;
    this.sentSeq = this.ackedSeq;
  }

  /** Hands out entries again from `seq + 1` (what the coordinator stored up to). */
  rewind(seq: number): void {
    const target = Math.max(0, seq);
    this.ackedSeq = target;
    if (target === this.sentSeq) return;
    this.cursor = this.points.before(target);
    this.ready = [];
    this.sentSeq = target;
    this.rewound();
  }

  /** The coordinator stored every entry up to `seq`. */
  ack(seq: number): void {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    this.points.ack(seq);
  }

  /** The point to persist: acknowledged entries and the latest resume point before them. */
  position(): NumberedPosition<C> {
    return { acked: this.ackedSeq, checkpoint: this.points.before(this.ackedSeq) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Called after a rewind moved the cursor back (parser state to reset). */
  protected rewound(): void {}

  /** Remembers a resume point when the cursor is far enough past the last one. */
  protected passed(at: () => C): void {
    this.points.passed(this.cursor.offset, at);
  }

  /** Up to one read's worth of the file from the cursor; empty while the file does not exist. */
  protected read(): Buffer {
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

  /** Reads the file from `offset` into the shared buffer (for entries longer than one read). */
  protected readAt(offset: number): Buffer {
    if (this.fd === undefined || !this.buffer) return Buffer.alloc(0);
    const n = readSync(this.fd, this.buffer, 0, this.buffer.length, offset);
    return this.buffer.subarray(0, n);
  }
}

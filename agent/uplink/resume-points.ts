/** A place in a file from which numbering can resume: after `seq` entries, at byte `offset`. */
export interface ResumePoint {
  offset: number;
  seq: number;
}

/**
 * The resume points remembered while reading a numbered file (the start, then one every
 * `everyBytes`), so that going back to an acknowledged entry re-reads little: `before(seq)`
 * is the latest point at or before an entry, `ack(seq)` lets the older ones go.
 */
export class ResumePoints<P extends ResumePoint> {
  private readonly points: P[];

  constructor(zero: P, start: P | undefined, private readonly everyBytes: number, private readonly copy: (p: P) => P) {
    this.points = start ? [copy(zero), copy(start)] : [copy(zero)];
  }

  /** Remembers the point that `at` builds when `offset` is far enough past the last one. */
  passed(offset: number, at: () => P): void {
    const last = this.points[this.points.length - 1]!;
    if (offset - last.offset >= this.everyBytes) this.points.push(this.copy(at()));
  }

  /** A copy of the latest point at or before entry `seq`. */
  before(seq: number): P {
    let best = this.points[0]!;
    for (const p of this.points) if (p.seq <= seq && p.seq >= best.seq) best = p;
    return this.copy(best);
  }

  /** Entries up to `seq` are acknowledged: keeps the start and the points from the latest one before it. */
  ack(seq: number): void {
    let base = 0;
    for (let i = 0; i < this.points.length; i += 1) if (this.points[i]!.seq <= seq) base = i;
    if (base > 1) this.points.splice(1, base - 1);
  }
}

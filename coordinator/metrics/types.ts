/** One stored metric value: a key of one record. */
export interface MetricPointRow {
  cursor: number;
  session: string;
  epoch: number;
  rank: number;
  tsMs: number;
  step: number;
  key: string;
  /** NaN and ±Infinity are kept. */
  value: number;
  summary: boolean;
}

/** One record as the agent sends it: several keys at one time and step. */
export interface NewMetricRecord {
  tsMs: number;
  step: number;
  values: Record<string, number>;
  summary: boolean;
}

/** An applied operator command, on the session's metric timeline. */
export interface NewTimelineEvent {
  tsMs: number;
  step: number | null;
  kind: string;
  name: string;
  /** JSON, '' when absent. */
  valueJson: string;
  oldJson: string;
  /** For `load`: the session the checkpoint came from. */
  sourceSession: string;
}

export interface TimelineEventRow extends NewTimelineEvent {
  cursor: number;
  epoch: number;
  rank: number;
}

/** Where a batch comes from: one rank of one placement, and its place in that rank's sequence. */
export interface MetricSource {
  session: string;
  epoch: number;
  rank: number;
  /** From 1, increasing per (session, epoch, rank); shared by metric batches and command results. */
  seq: number;
}

export interface NewMetricBatch extends MetricSource {
  records: NewMetricRecord[];
  events: NewTimelineEvent[];
  /** Records lost before they reached the coordinator. */
  dropped: number;
}

export interface MetricAckRow {
  session: string;
  epoch: number;
  rank: number;
  seq: number;
}

/**
 * The metric rows of the coordinator's SQLite state. Each writing method is one transaction;
 * a batch whose seq is already stored changes nothing.
 */
export interface MetricTable {
  /**
   * Takes `seq` for (session, epoch, rank) unless it is not above the stored one; true when taken.
   * Call inside a transaction that stores what the seq carries (a command result).
   */
  claimSeq(source: MetricSource): boolean;
  /** Stores a batch in one transaction; `stored` false for a repeated seq. */
  insertBatch(batch: NewMetricBatch): { stored: boolean; points: number; events: number };
  /** Points after `afterCursor` in cursor order, of one key or every key. */
  readPoints(session: string, key: string | undefined, afterCursor: number, limit: number): MetricPointRow[];
  /** The latest point of each key (or of one key). */
  latest(session: string, key: string | undefined): MetricPointRow[];
  /** How many points are stored (of one key or all). */
  countPoints(session: string, key: string | undefined): number;
  /** The timeline, oldest first. */
  events(session: string, limit: number): TimelineEventRow[];
  /** The latest `summary=True` value of each key. */
  summaryOf(session: string): Record<string, number>;
  /** Records lost before they were stored, over every rank and placement. */
  dropped(session: string): number;
  /** The stored seq of every rank placed on this node, for sessions not ended before `sinceMs`. */
  acksForNode(nodeId: string, sinceMs: number): MetricAckRow[];
}

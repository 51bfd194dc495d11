import type { Logger } from '../../common/log.js';
import type { AgentMessage, CommandResult, MetricAck__Output, MetricEvent, MetricRecord } from '../../common/proto/types.js';
import type { StreamLink } from '../connection/connection.js';
import { rankKeyString, type RankKey } from '../runner/rank-spec.js';

export interface TelemetryOutboxOptions {
  /** Records kept while unacknowledged, over every rank; beyond it new records are dropped and counted. Default 200,000. */
  maxRecords?: number;
  logger: Logger;
}

/** A command result without where it comes from (the rank's queue adds it). */
export type RankResult = Omit<CommandResult, 'session' | 'epoch' | 'rank' | 'seq'>;

interface Item {
  /** 0 until first sent; then fixed, so that a replay repeats it. */
  seq: number;
  records: number;
  build(seq: number): AgentMessage;
}

interface RankQueue {
  id: RankKey;
  items: Item[];
  /** How many items at the front were written to the current stream. */
  sent: number;
  nextSeq: number;
  /** Records dropped here, not yet told. */
  dropped: number;
  /** The rank ended: forget the queue once it is empty. */
  ended: boolean;
}

export interface TelemetryStatus {
  ranks: number;
  items: number;
  records: number;
  dropped: number;
}

/**
 * Metric batches, timeline events and command results of every rank, on their way to the
 * coordinator: kept until acknowledged (`metric_ack`), replayed in order after a reconnect,
 * numbered per rank (`seq`) at their first send. Bounded: past `maxRecords` unacknowledged
 * records, new records are dropped and the count travels with the rank's next batch.
 */
export class TelemetryOutbox {
  private readonly queues = new Map<string, RankQueue>();
  private readonly maxRecords: number;
  private records = 0;
  private droppedTotal = 0;
  private link: StreamLink | undefined;
  private blocked = false;
  /** Called when a rank's queue has nothing unsent any more (the log outbox may tell its end). */
  onIdle: (key: string) => void = () => {};

  constructor(private readonly options: TelemetryOutboxOptions) {
    this.maxRecords = options.maxRecords ?? 200_000;
  }

  addBatch(id: RankKey, records: MetricRecord[], dropped: number): void {
    const q = this.queue(id);
    if (this.records + records.length > this.maxRecords) {
      q.dropped += records.length + dropped;
      this.droppedTotal += records.length;
      if (this.droppedTotal === records.length) this.options.logger.warn('metric buffer full; dropping records until the coordinator catches up', { session: id.session });
    } else {
      this.push(q, records.length, (seq) => ({ metricBatch: { ...id, seq, records, events: [], dropped: dropped + this.takeDropped(q) } }));
    }
    this.pump();
  }

  addEvent(id: RankKey, event: MetricEvent): void {
    const q = this.queue(id);
    this.push(q, 0, (seq) => ({ metricBatch: { ...id, seq, records: [], events: [event], dropped: this.takeDropped(q) } }));
    this.pump();
  }

  addResult(id: RankKey, result: RankResult): void {
    this.push(this.queue(id), 0, (seq) => ({ commandResult: { ...result, ...id, seq } }));
    this.pump();
  }

  /** A result for a rank this node does not run: sent now if it can be, never replayed. */
  sendOnce(result: CommandResult): void {
    if (this.link?.open) this.blocked = !this.link.send({ commandResult: { ...result, seq: 0 } }) || this.blocked;
  }

  /** The rank ended; its queue goes once everything in it is acknowledged. */
  end(id: RankKey): void {
    const q = this.queues.get(rankKeyString(id));
    if (!q) return;
    q.ended = true;
    this.forgetIfDone(rankKeyString(id), q);
  }

  /** True while something of this rank has not been written to the stream. */
  unsent(key: string): boolean {
    const q = this.queues.get(key);
    return q !== undefined && (q.sent < q.items.length || q.dropped > 0);
  }

  /** A new stream registered: drop what the coordinator stored, number after it, replay the rest. */
  registered(acks: readonly MetricAck__Output[], link: StreamLink): void {
    for (const a of acks) {
      const q = this.queues.get(rankKeyString(a));
      if (!q) continue;
      this.release(q, a.seq);
      q.nextSeq = Math.max(q.nextSeq, a.seq + 1);
    }
    for (const [key, q] of this.queues) {
      q.sent = 0;
      this.forgetIfDone(key, q);
    }
    this.link = link;
    this.blocked = false;
    this.pump();
  }

  ack(a: MetricAck__Output): void {
    const key = rankKeyString(a);
    const q = this.queues.get(key);
    if (!q) return;
    q.sent = Math.max(0, q.sent - this.release(q, a.seq));
    this.forgetIfDone(key, q);
  }

  disconnected(): void {
    this.link = undefined;
    for (const q of this.queues.values()) q.sent = 0;
  }

  drain(): void {
    this.blocked = false;
    this.pump();
  }

  /** Writes what it can to the current stream, rank after rank, in order. */
  pump(): void {
    const link = this.link;
    if (!link?.open) return;
    for (const [key, q] of this.queues) {
      if (!this.unsent(key)) continue;
      if (q.dropped > 0 && q.sent === q.items.length) this.push(q, 0, (seq) => ({ metricBatch: { ...q.id, seq, records: [], events: [], dropped: this.takeDropped(q) } }));
      while (!this.blocked && q.sent < q.items.length && link.open) {
        const item = q.items[q.sent]!;
        if (item.seq === 0) item.seq = q.nextSeq++;
        this.blocked = !link.send(item.build(item.seq));
        q.sent++;
      }
      if (!this.unsent(key)) this.onIdle(key);
      if (this.blocked) return;
    }
  }

  getStatus(): TelemetryStatus {
    let items = 0;
    for (const q of this.queues.values()) items += q.items.length;
    return { ranks: this.queues.size, items, records: this.records, dropped: this.droppedTotal };
  }

  private queue(id: RankKey): RankQueue {
    const key = rankKeyString(id);
    let q = this.queues.get(key);
    if (!q) {
      q = { id: { session: id.session, epoch: id.epoch, rank: id.rank }, items: [], sent: 0, nextSeq: 1, dropped: 0, ended: false };
      this.queues.set(key, q);
    }
    return q;
  }

  private push(q: RankQueue, records: number, build: (seq: number) => AgentMessage): void {
    let message: AgentMessage | undefined;
    // Built once, at the first send: the dropped count it carries is taken then.
    q.items.push({ seq: 0, records, build: (seq) => (message ??= build(seq)) });
    this.records += records;
  }

  private takeDropped(q: RankQueue): number {
    const n = q.dropped;
    q.dropped = 0;
    return n;
  }

  /** Removes the items up to `seq` from the front; returns how many. */
  private release(q: RankQueue, seq: number): number {
    let n = 0;
    while (n < q.items.length && q.items[n]!.seq !== 0 && q.items[n]!.seq <= seq) {
      this.records -= q.items[n]!.records;
      n++;
    }
    q.items.splice(0, n);
    return n;
  }

  private forgetIfDone(key: string, q: RankQueue): void {
    if (q.ended && q.items.length === 0 && q.dropped === 0) this.queues.delete(key);
  }
}

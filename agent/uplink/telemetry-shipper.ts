import { watch, type FSWatcher } from 'node:fs';
import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandResult as WireResult, MetricAck__Output } from '../../common/proto/types.js';
import type { CommandResult } from '../bridge/protocol.js';
import type { StreamLink } from '../connection/connection.js';
import { rankKeyString, type RankKey } from '../runner/rank-spec.js';
import type { SessionDir } from '../runner/session-dir.js';
import { JournalReader, type JournalPosition } from './journal-reader.js';
import { entryMessage } from './telemetry-entry.js';

/** What the shipper needs of a rank (a RankRunner is one). */
export interface ShippedRank {
  readonly key: string;
  readonly spec: RankKey;
  readonly dir: SessionDir;
  /** The process ended: the journal is complete. */
  readonly finished: boolean;
}

export interface TelemetryShipperOptions {
  /** The ranks this node has (re-adopted ones included). */
  ranks(): readonly ShippedRank[];
  /** Takes a command result of the agent's own (true: it is not shipped). */
  own?(key: string, result: CommandResult): boolean;
  maxLineBytes: number;
  /** Entries sent and not yet acknowledged, per rank. Default 64. */
  maxUnacked?: number;
  clock: Clock;
  logger: Logger;
}

interface Tracked {
  rank: ShippedRank;
  reader: JournalReader;
  watcher: FSWatcher | undefined;
  persistedMs: number;
}

export interface TelemetryStatus {
  ranks: number;
  unacked: number;
  damaged: number;
}

/**
 * Ships every rank's telemetry journal (metrics, events, command results written by the SDK to
 * NSML_TELEMETRY_FILE): entry N of the file is `seq` N, acknowledged by the coordinator without
 * gaps (`metric_ack`), replayed from the acknowledged point after a reconnect or an agent
 * restart (telpos.json). Nothing is held in memory beyond a bounded window: the file is the
 * queue, so a killed agent loses nothing and a full window only slows the reading.
 */
export class TelemetryShipper {
  private readonly tracked = new Map<string, Tracked>();
  private link: StreamLink | undefined;
  private blocked = false;
  private scheduled = false;
  private damaged = 0;
  private readonly maxUnacked: number;

  constructor(private readonly o: TelemetryShipperOptions) {
    this.maxUnacked = o.maxUnacked ?? 64;
  }

  /** A result for a rank this node does not run (or a refused command): sent now if it can be, never replayed. */
  sendOnce(result: WireResult): void {
    if (this.link?.open) this.blocked = !this.link.send({ commandResult: { ...result, seq: 0 } }) || this.blocked;
  }

  /** A new stream registered: resume each rank after what the coordinator stored. */
  registered(acks: readonly MetricAck__Output[], link: StreamLink): void {
    this.sync();
    const stored = new Map(acks.map((a) => [rankKeyString(a), a.seq]));
    for (const [key, t] of this.tracked) t.reader.rewind(stored.get(key) ?? t.reader.ackedSeq);
    this.link = link;
    this.blocked = false;
    this.pump();
  }

  ack(a: MetricAck__Output): void {
    const t = this.tracked.get(rankKeyString(a));
    if (!t) return;
    t.reader.ack(a.seq);
    this.persist(t, false);
    this.pump();
  }

  disconnected(): void {
    this.link = undefined;
  }

  drain(): void {
    this.blocked = false;
    this.pump();
  }

  /**
   * True once everything the rank's journal holds is stored by the coordinator (its end waits
   * for this); always true for a rank that is not tracked.
   */
  settled(key: string): boolean {
    const t = this.tracked.get(key);
    if (!t) return true;
    return t.reader.sentSeq === t.reader.ackedSeq && t.reader.caughtUp(t.rank.finished);
  }

  /** Writes what it can to the current stream, rank after rank, within each rank's window. */
  pump(): void {
    this.sync();
    const link = this.link;
    if (!link?.open) return;
    for (const [key, t] of this.tracked) {
      if (this.blocked) return;
      try {
        this.pumpRank(key, t, link);
      } catch (err) {
        this.o.logger.error('cannot ship telemetry', { session: t.rank.spec.session, rank: t.rank.spec.rank, error: errorMessage(err) });
      }
    }
  }

  /** The rank's folder is about to go: stop following it. */
  forget(key: string): void {
    const t = this.tracked.get(key);
    if (!t) return;
    this.tracked.delete(key);
    this.release(t);
  }

  close(): void {
    for (const t of this.tracked.values()) {
      this.persist(t, true);
      this.release(t);
    }
    this.tracked.clear();
  }

  getStatus(): TelemetryStatus {
    let unacked = 0;
    for (const t of this.tracked.values()) unacked += t.reader.sentSeq - t.reader.ackedSeq;
    return { ranks: this.tracked.size, unacked, damaged: this.damaged };
  }

  private pumpRank(key: string, t: Tracked, link: StreamLink): void {
    const id = { session: t.rank.spec.session, epoch: t.rank.spec.epoch, rank: t.rank.spec.rank };
    const final = t.rank.finished;
    this.watch(t, final);
    while (!this.blocked && t.reader.sentSeq - t.reader.ackedSeq < this.maxUnacked) {
      const entries = t.reader.next(this.maxUnacked - (t.reader.sentSeq - t.reader.ackedSeq), final);
      if (entries.length === 0) break;
      for (const entry of entries) {
        const out = entryMessage(id, entry, (r) => this.o.own?.(key, r) ?? false);
        if (out.damage !== undefined) {
          this.damaged++;
          this.o.logger.warn('a telemetry journal entry was not usable', { session: id.session, rank: id.rank, seq: entry.seq, reason: out.damage });
        }
        this.blocked = !link.send(out.message) || this.blocked;
      }
    }
  }

  /** Follows the ranks the runner has; each starts from its persisted position. */
  private sync(): void {
    for (const rank of this.o.ranks()) {
      if (this.tracked.has(rank.key)) continue;
      const from = rank.dir.readJson<JournalPosition>('telpos.json');
      const reader = new JournalReader(rank.dir.telemetry, { maxLineBytes: this.o.maxLineBytes }, from);
      this.tracked.set(rank.key, { rank, reader, watcher: undefined, persistedMs: 0 });
    }
  }

  /** A live rank's journal is watched, so that a command result goes up at once. */
  private watch(t: Tracked, final: boolean): void {
    if (final) {
      t.watcher?.close();
      t.watcher = undefined;
      return;
    }
    if (t.watcher) return;
    try {
      t.watcher = watch(t.rank.dir.telemetry, { persistent: false }, () => this.schedule());
      t.watcher.on('error', () => {
        t.watcher?.close();
        t.watcher = undefined;
      });
    } catch {
      // not written yet: the next pump tries again
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private persist(t: Tracked, force: boolean): void {
    const now = this.o.clock.now();
    if (!force && now - t.persistedMs < 1_000) return;
    t.persistedMs = now;
    try {
      t.rank.dir.writeJson('telpos.json', t.reader.position());
    } catch {
      // the folder may be gone, or the disk full: the position is only a shortcut
    }
  }

  private release(t: Tracked): void {
    t.watcher?.close();
    t.reader.close();
  }
}

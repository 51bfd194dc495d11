import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { LogAck__Output, RunningProcess, SessionStatus } from '../../common/proto/types.js';
import { LogShipper, type LogPosition } from './log-shipper.js';
import { isFinished, type RankPhase, type RankRunner } from '../runner/rank-runner.js';
import type { Runner } from '../runner/runner.js';
import type { StreamLink } from '../connection/connection.js';

export interface OutboxOptions {
  maxLineBytes: number;
  maxUnackedLines: number;
  finishedRetentionMs: number;
  /**
   * A finished rank whose log is all stored is forgotten only after its end was told this long
   * ago on a stream still open: long enough for a broken connection to be noticed, so that an
   * end lost with its stream is told again at the next registration.
   */
  confirmMs: number;
  /**
   * True while a rank (by its key) has metrics or command results not yet on the stream: its end
   * waits for them, so that a session that reads as finished has them stored.
   */
  holdEnd?: (key: string) => boolean;
  /** Called before a finished rank's folder is removed. */
  onForget?: (key: string) => void;
  maxBatchLines?: number;
  maxBatchBytes?: number;
  clock: Clock;
  logger: Logger;
}

/** What the coordinator was told about a rank on the current stream. */
type Told = 'none' | 'starting' | 'running' | 'final';
const ORDER: Record<Told, number> = { none: 0, starting: 1, running: 2, final: 3 };

interface Tracked {
  rank: RankRunner;
  shipper: LogShipper;
  told: Told;
  finalToldMs: number | undefined;
  persistedMs: number;
}

/**
 * Everything the coordinator has not been told yet, in order, derived from the ranks and their
 * output files rather than kept in memory: so it survives disconnects (and, through the files,
 * agent restarts). Per rank: `starting`, `running`, its log lines, then its end, never before
 * the last line was sent (the ordering rule of proto/agent-stream.md).
 */
export class Outbox {
  private readonly tracked = new Map<string, Tracked>();
  private link: StreamLink | undefined;
  private blocked = false;
  private oneOffs: SessionStatus[] = [];
  private listed = new Map<string, string>();
  private readonly confirmMs: number;
  private readonly maxBatchLines: number;
  private readonly maxBatchBytes: number;

  constructor(private readonly runner: Runner, private readonly options: OutboxOptions) {
    this.maxBatchLines = options.maxBatchLines ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.confirmMs = options.confirmMs;
    for (const r of runner.ranks()) this.track(r);
  }

  /** Starts following a rank (a new one, or one re-adopted after a restart). */
  track(rank: RankRunner): void {
    if (this.tracked.has(rank.key)) return;
    const from = rank.dir.readJson<LogPosition>('logpos.json');
    const shipper = new LogShipper(rank.dir.file('output.log'), { maxLineBytes: this.options.maxLineBytes }, from);
    this.tracked.set(rank.key, { rank, shipper, told: 'none', finalToldMs: undefined, persistedMs: 0 });
  }

  /**
   * The processes to list in `register`: a rank whose end cannot be told yet (log lines not
   * all stored, or a failure message to deliver) is listed as still starting or running, and
   * its end follows after `registered`, after its logs.
   */
  registerListing(): RunningProcess[] {
    for (const r of this.runner.ranks()) this.track(r);
    const out = [...this.tracked.values()].map((t) => this.listing(t, true));
    this.listed = new Map(out.map((p) => [`${p.session}|${p.epoch}|${p.rank}`, p.state!]));
    return out;
  }

  /** The live processes, for heartbeats. */
  liveListing(): RunningProcess[] {
    return [...this.tracked.values()].filter((t) => !t.rank.finished).map((t) => this.listing(t, false));
  }

  /** The coordinator answered `registered`: resume each rank's log after what it stored. */
  registered(acks: LogAck__Output[], link: StreamLink): void {
    const bySessionRank = new Map(acks.map((a) => [`${a.session}|${a.rank}`, a.seq]));
    for (const t of this.tracked.values()) {
      const listed = this.listed.get(t.rank.key);
      t.told = listed === 'exited' ? 'final' : listed === 'running' ? 'running' : listed === 'starting' ? 'starting' : 'none';
      t.finalToldMs = t.told === 'final' ? this.options.clock.now() : undefined;
      const acked = bySessionRank.get(`${t.rank.spec.session}|${t.rank.spec.rank}`);
      t.shipper.rewind(acked ?? t.shipper.ackedSeq);
    }
    this.link = link;
    this.blocked = false;
    this.pump();
  }

  disconnected(): void {
    this.link = undefined;
    this.oneOffs = [];
    for (const t of this.tracked.values()) {
      t.told = 'none';
      t.finalToldMs = undefined;
    }
  }

  /** The stream took what was queued. */
  drain(): void {
    this.blocked = false;
    this.pump();
  }

  /** A status not backed by a rank (a start request that could not even be accepted). */
  tellOnce(status: SessionStatus): void {
    this.oneOffs.push(status);
    this.pump();
  }

  ack(a: LogAck__Output): void {
    const t = this.latest(a.session, a.rank);
    if (!t) return;
    t.shipper.ack(a.seq);
    this.persistPosition(t, false);
    this.pump();
  }

  /** Sends everything it can now; call on a timer and whenever something changed. */
  pump(): void {
    const link = this.link;
    if (!link?.open) return;
    while (!this.blocked && this.oneOffs.length > 0) this.blocked = !link.send({ sessionStatus: this.oneOffs.shift()! });
    for (const r of this.runner.ranks()) {
      if (this.blocked) return;
      this.track(r);
      const t = this.tracked.get(r.key)!;
      try {
        this.pumpRank(t, link);
      } catch (err) {
        this.options.logger.error('cannot ship a rank', { session: r.spec.session, rank: r.spec.rank, error: errorMessage(err) });
      }
    }
    void this.forgetDone();
  }

  /** Closes every file; the ranks stay on disk. */
  close(): void {
    for (const t of this.tracked.values()) {
      this.persistPosition(t, true);
      t.shipper.close();
    }
  }

  private pumpRank(t: Tracked, link: StreamLink): void {
    const rec = t.rank.record;
    const final = isFinished(rec.phase);
    if (ORDER[t.told] < ORDER.starting && rec.phase !== 'failed_to_start') this.tell(t, link, 'starting');
    if (ORDER[t.told] < ORDER.running && rec.startedMs !== undefined && !this.blocked) this.tell(t, link, 'running');
    while (!this.blocked && t.shipper.sentSeq - t.shipper.ackedSeq < this.options.maxUnackedLines) {
      const room = this.options.maxUnackedLines - (t.shipper.sentSeq - t.shipper.ackedSeq);
      const lines = t.shipper.next(Math.min(room, this.maxBatchLines), this.maxBatchBytes, final);
      if (lines.length === 0) break;
      const { session, epoch, rank } = t.rank.spec;
      this.blocked = !link.send({ logBatch: { session, epoch, rank, lines: lines.map((l) => ({ ...l, rank })) } });
    }
    if (final && t.told !== 'final' && !this.blocked && t.shipper.drained(true) && !this.options.holdEnd?.(t.rank.key)) this.tell(t, link, 'final');
  }

  private tell(t: Tracked, link: StreamLink, what: Exclude<Told, 'none'>): void {
    const { session, epoch, rank } = t.rank.spec;
    const rec = t.rank.record;
    const base = { session, epoch, rank, signal: '', message: '' };
    let status: SessionStatus;
    if (what === 'starting') status = { ...base, state: 'starting', tsMs: rec.createdMs };
    else if (what === 'running') status = { ...base, state: 'running', tsMs: rec.startedMs };
    else {
      const end = rec.end;
      status = rec.phase === 'failed_to_start'
        ? { ...base, state: 'failed_to_start', message: end?.message ?? '', tsMs: end?.endedMs }
        : { ...base, state: 'exited', exitCode: end?.exitCode ?? -1, signal: end?.signal ?? '', message: end?.message ?? '', tsMs: end?.endedMs };
      t.finalToldMs = this.options.clock.now();
      if (t.shipper.damage) this.options.logger.warn('part of a session log could not be read', { session, error: t.shipper.damage });
    }
    t.told = what;
    this.blocked = !link.send({ sessionStatus: status });
  }

  private listing(t: Tracked, forRegister: boolean): RunningProcess {
    const { session, epoch, rank } = t.rank.spec;
    const rec = t.rank.record;
    const base = { session, epoch, rank, pid: t.rank.pid };
    const phase: RankPhase = rec.phase;
    if (phase === 'starting' || phase === 'running') return { ...base, state: phase };
    if (phase === 'failed_to_start') return { ...base, state: 'starting' };
    if (forRegister && this.fullyAcked(t) && !this.options.holdEnd?.(t.rank.key)) return { ...base, state: 'exited', exitCode: rec.end?.exitCode ?? -1 };
    return { ...base, state: 'running' };
  }

  private fullyAcked(t: Tracked): boolean {
    return t.shipper.drained(isFinished(t.rank.record.phase)) && t.shipper.ackedSeq >= t.shipper.lastSeq;
  }

  private latest(session: string, rank: number): Tracked | undefined {
    let best: Tracked | undefined;
    for (const t of this.tracked.values()) {
      if (t.rank.spec.session === session && t.rank.spec.rank === rank && (!best || t.rank.spec.epoch > best.rank.spec.epoch)) best = t;
    }
    return best;
  }

  private persistPosition(t: Tracked, force: boolean): void {
    const now = this.options.clock.now();
    if (!force && now - t.persistedMs < 1_000 && !(t.rank.finished && this.fullyAcked(t))) return;
    t.persistedMs = now;
    try {
      t.rank.dir.writeJson('logpos.json', t.shipper.position());
    } catch {
      // the folder may be gone already (forgotten)
    }
  }

  /** Forgets ranks whose end was told and whose log is stored (or whose retention ran out). */
  private async forgetDone(): Promise<void> {
    const now = this.options.clock.now();
    for (const [key, t] of this.tracked) {
      if (t.told !== 'final' || t.finalToldMs === undefined) continue;
      const age = now - t.finalToldMs;
      if (age < this.options.finishedRetentionMs && !(age >= this.confirmMs && this.fullyAcked(t))) continue;
      this.tracked.delete(key);
      t.shipper.close();
      this.options.onForget?.(key);
      await this.runner.forget(key);
    }
  }
}

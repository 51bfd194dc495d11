import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { RankRunner } from './runner/rank-runner.js';
import type { RankKey } from './runner/rank-spec.js';
import type { SaveOutcome } from './session-bridge/session-bridges.js';

/** The part of a rank a stop needs. */
export type StoppableRank = Pick<RankRunner, 'key' | 'spec' | 'finished' | 'record' | 'stop'>;

export interface SessionStopsDeps {
  /** Every rank of this node. */
  ranks(): StoppableRank[];
  /** Asks a rank's script to save (SessionBridges.askToSave). */
  askToSave(key: RankKey, name: string, timeoutMs: number): Promise<SaveOutcome>;
  logger: Logger;
  clock: Clock;
}

/** What `stop` carries. */
export interface StopRequest {
  session: string;
  /** 0: any epoch. */
  epoch: number;
  graceMs: number;
  reason: string;
  /** A preemption: ask the script to save first. */
  checkpoint: boolean;
}

/** The checkpoint a preempted rank saves: `preempted-<epoch>`. */
export function preemptionCheckpointName(epoch: number): string {
  return `preempted-${epoch}`;
}

/**
 * The coordinator's `stop`: SIGTERM to each rank's group, SIGKILL after `grace_ms`. With
 * `checkpoint: true` (a preemption) the script is asked to save first, within the grace period:
 *
 * - Rank 0, when its script is connected to the bridge, is sent a `save preempted-<epoch>`
 *   command (applied at its next `report()` or `poll()`, registered like any save); the agent
 *   waits for the result, at most half of `grace_ms`.
 * - Other ranks do not save; on a node without rank 0 they keep running for that half, so that
 *   a gang's collective calls let rank 0 reach its save. On rank 0's node they stop with it.
 * - Then the ranks get the usual stop (SIGTERM, SIGKILL after the rest of the grace period).
 *   A rank that was stopped meanwhile or ended is left alone.
 * - While a rank saves, another `stop` with a grace period (the coordinator repeats the stop of
 *   a stopping session when a heartbeat still lists its ranks) does not cut the save short: the
 *   rank stops anyway when the save is over, within the first stop's grace. A `stop` with
 *   `grace_ms: 0` (a stale epoch, a gang that lost a rank) kills it at once.
 */
export class SessionStops {
  private readonly inFlight = new Set<string>();
  private readonly ctl = new AbortController();

  constructor(private readonly deps: SessionStopsDeps) {}

  /** Resolves once the ranks were stopped (or the agent closed meanwhile); never rejects. */
  async stop(request: StopRequest): Promise<void> {
    if (!request.checkpoint) return this.stopNow(request);
    const matching = this.deps.ranks().filter((r) => matches(r, request) && !r.finished && !this.inFlight.has(r.key));
    const fresh = matching.filter((r) => !r.record.stop);
    const windowMs = Math.floor(request.graceMs / 2);
    if (fresh.length === 0 || windowMs <= 0) {
      for (const r of matching) r.stop(request.graceMs, request.reason);
      return;
    }
    for (const r of fresh) this.inFlight.add(r.key);
    const startedMs = this.deps.clock.now();
    try {
      await this.saveOrWait(fresh, windowMs);
      if (this.ctl.signal.aborted) return;
      const restMs = Math.max(0, request.graceMs - (this.deps.clock.now() - startedMs));
      for (const r of fresh) {
        if (!r.finished && !r.record.stop) r.stop(restMs, request.reason);
      }
    } catch (err) {
      this.deps.logger.error('cannot stop ranks after asking them to save', { session: request.session, error: errorMessage(err) });
      for (const r of fresh) r.stop(request.graceMs, request.reason);
    } finally {
      for (const r of fresh) this.inFlight.delete(r.key);
    }
  }

  private stopNow(request: StopRequest): void {
    for (const r of this.deps.ranks()) {
      if (!matches(r, request) || r.finished) continue;
      if (this.inFlight.has(r.key) && request.graceMs > 0) {
        this.deps.logger.info('the rank saves before its preemption; it stops after', { session: r.spec.session, rank: r.spec.rank, reason: request.reason });
        continue;
      }
      r.stop(request.graceMs, request.reason);
    }
  }

  /** The agent is closing: pending stops are dropped (the processes keep running, as on close). */
  close(): void {
    this.ctl.abort();
  }

  getStatus(): { saving: number } {
    return { saving: this.inFlight.size };
  }

  private async saveOrWait(ranks: StoppableRank[], windowMs: number): Promise<void> {
    const leaders = ranks.filter((r) => r.spec.rank === 0);
    if (leaders.length === 0) {
      await sleep(windowMs, undefined, { signal: this.ctl.signal }).catch(() => undefined);
      return;
    }
    await Promise.all(leaders.map((r) => this.save(r, windowMs)));
  }

  private async save(rank: StoppableRank, windowMs: number): Promise<void> {
    const name = preemptionCheckpointName(rank.spec.epoch);
    const where = { session: rank.spec.session, epoch: rank.spec.epoch, rank: rank.spec.rank, checkpoint: name };
    const saved = await this.deps.askToSave(rank.spec, name, windowMs);
    if (saved.outcome === 'saved') this.deps.logger.info('saved a checkpoint before the preemption', where);
    else if (saved.outcome === 'failed') this.deps.logger.warn('the script could not save before the preemption', { ...where, error: saved.message });
    else this.deps.logger.warn(`no checkpoint before the preemption: ${saved.outcome}`, where);
  }
}

function matches(r: StoppableRank, request: StopRequest): boolean {
  return r.spec.session === request.session && (request.epoch === 0 || r.spec.epoch === request.epoch);
}

import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import { forgetRank } from './cleanup.js';
import type { RunnerDeps } from './rank-context.js';
import { RankRunner } from './rank-runner.js';
import type { RankSpec } from './rank-spec.js';
import { rankKeyString } from './rank-spec.js';
import { SessionDir } from './session-dir.js';

/**
 * The ranks this node runs, started here or re-adopted from `<dataDir>/sessions` after an
 * agent restart. Closing the runner leaves every process running for the next agent.
 */
export class Runner {
  private readonly ranksByKey = new Map<string, RankRunner>();
  private readonly listeners = new Set<(r: RankRunner) => void>();

  private constructor(readonly sessionsDir: string, private readonly deps: RunnerDeps) {}

  /** Opens the sessions folder and re-adopts every rank found there. */
  static open(sessionsDir: string, deps: RunnerDeps): Runner {
    mkdirSync(sessionsDir, { recursive: true });
    const runner = new Runner(sessionsDir, deps);
    for (const name of readdirSync(sessionsDir).sort()) {
      try {
        const r = RankRunner.adopt(new SessionDir(join(sessionsDir, name)), deps, (x) => runner.changed(x));
        if (r) {
          runner.ranksByKey.set(r.key, r);
          deps.logger.info(r.finished ? 're-adopted a rank that ended while no agent ran' : 're-adopted a running rank', {
            session: r.spec.session, epoch: r.spec.epoch, rank: r.spec.rank, pid: r.pid, phase: r.record.phase,
          });
        }
      } catch (err) {
        deps.logger.warn('cannot re-adopt a session folder', { folder: name, error: errorMessage(err) });
      }
    }
    return runner;
  }

  onChange(listener: (r: RankRunner) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every rank, oldest first. */
  ranks(): RankRunner[] {
    return [...this.ranksByKey.values()].sort((a, b) => a.record.createdMs - b.record.createdMs);
  }

  get(key: string): RankRunner | undefined {
    return this.ranksByKey.get(key);
  }

  /**
   * Starts a rank. A repeated start of a rank this node already has is ignored; an older epoch
   * of the same session rank still running here is killed at once (it is stale).
   */
  start(spec: RankSpec): RankRunner {
    const key = rankKeyString(spec);
    const existing = this.ranksByKey.get(key);
    if (existing) return existing;
    for (const r of this.ranksByKey.values()) {
      if (r.spec.session === spec.session && r.spec.rank === spec.rank && r.spec.epoch < spec.epoch) {
        r.stop(0, `epoch ${spec.epoch} replaces epoch ${r.spec.epoch}`);
      }
    }
    const dir = SessionDir.forRank(this.sessionsDir, spec.session, spec.epoch, spec.rank);
    mkdirSync(dir.root, { recursive: true });
    if (this.deps.sessionUsers) chmodSync(dir.root, 0o711); // its user passes through to what it is given (session-user.ts)
    const r = RankRunner.launch(spec, dir, this.deps, (x) => this.changed(x));
    this.ranksByKey.set(key, r);
    this.changed(r);
    return r;
  }

  /** Stops the ranks of `session` at `epoch` (0: any epoch); returns how many were asked to stop. */
  stop(session: string, epoch: number, graceMs: number, reason: string): number {
    let n = 0;
    for (const r of this.ranksByKey.values()) {
      if (r.spec.session !== session || (epoch !== 0 && r.spec.epoch !== epoch) || r.finished) continue;
      r.stop(graceMs, reason);
      n += 1;
    }
    return n;
  }

  /** Removes a finished rank and its folder. */
  async forget(key: string): Promise<void> {
    const r = this.ranksByKey.get(key);
    if (!r || !r.finished) return;
    this.ranksByKey.delete(key);
    await forgetRank(r);
  }

  /** Stops every running rank and waits for their ends (for tests and `nsml up` teardown). */
  async stopAll(graceMs: number, reason: string): Promise<void> {
    for (const r of this.ranksByKey.values()) r.stop(graceMs, reason);
    await Promise.all([...this.ranksByKey.values()].map((r) => r.whenDone()));
  }

  /** Stops watching; the processes keep running and are re-adopted by the next `open`. */
  async detach(): Promise<void> {
    for (const r of this.ranksByKey.values()) r.detach();
    await Promise.all([...this.ranksByKey.values()].map((r) => r.whenDone()));
  }

  private changed(r: RankRunner): void {
    for (const l of this.listeners) {
      try {
        l(r);
      } catch (err) {
        this.deps.logger.error('a rank listener failed', { error: errorMessage(err) });
      }
    }
  }
}

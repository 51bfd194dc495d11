import { errorMessage } from '../../common/errors.js';
import { diskFullError, noteDiskFull } from '../disk/disk-errors.js';
import { cleanup } from './cleanup.js';
import { exited, lostEnd, readExit } from './exited.js';
import { materialize } from './materialize.js';
import { gpuCheck } from './gpu-check.js';
import { prestart } from './prestart.js';
import { isAlive, signalGroup, signalProcess, type ProcessIdentity } from './proc.js';
import type { RankContext, RankEnd, RunnerDeps } from './rank-context.js';
import { rankKeyString, type RankSpec } from './rank-spec.js';
import type { SessionDir } from './session-dir.js';
import { start } from './start.js';

/** The states a rank reports, as in SessionStatus. */
export type RankPhase = 'starting' | 'running' | 'exited' | 'failed_to_start';

/** The rank's lifecycle record, kept in state.json. */
export interface RankRecord {
  phase: RankPhase;
  createdMs: number;
  startedMs?: number;
  supervisor?: ProcessIdentity;
  end?: RankEnd;
  stop?: { requestedMs: number; graceMs: number; reason: string };
}

interface ChildFile {
  pid: number;
  pgid: number;
  startTicks: string | null;
}

export function isFinished(phase: RankPhase): boolean {
  return phase === 'exited' || phase === 'failed_to_start';
}

/**
 * One rank of one session epoch on this node, run as ordered hooks:
 * materialize → prestart → gpu check → start → exited → cleanup. Its record is persisted at every step,
 * so that a restarted agent can re-adopt it (`RankRunner.adopt`).
 */
export class RankRunner {
  readonly key: string;
  private readonly stopCtl = new AbortController();
  private readonly detachCtl = new AbortController();
  private killTimer: NodeJS.Timeout | undefined;
  private child: ChildFile | undefined;
  private done: Promise<void> = Promise.resolve();

  private constructor(
    readonly spec: RankSpec,
    readonly dir: SessionDir,
    private readonly deps: RunnerDeps,
    private current: RankRecord,
    private readonly onChange: (r: RankRunner) => void,
  ) {
    this.key = rankKeyString(spec);
  }

  /** Starts a new rank: writes rank.json and runs the hooks in the background. */
  static launch(spec: RankSpec, dir: SessionDir, deps: RunnerDeps, onChange: (r: RankRunner) => void): RankRunner {
    dir.writeJson('rank.json', spec);
    const r = new RankRunner(spec, dir, deps, { phase: 'starting', createdMs: deps.clock.now() }, onChange);
    r.persist();
    r.done = r.runHooks();
    return r;
  }

  /** Re-adopts a rank found in `dir` after an agent restart; undefined when the folder is not a rank's. */
  static adopt(dir: SessionDir, deps: RunnerDeps, onChange: (r: RankRunner) => void): RankRunner | undefined {
    const spec = dir.readJson<RankSpec>('rank.json');
    if (!spec) return undefined;
    const record = dir.readJson<RankRecord>('state.json') ?? { phase: 'starting', createdMs: deps.clock.now() };
    const r = new RankRunner(spec, dir, deps, record, onChange);
    r.done = r.resume();
    return r;
  }

  get record(): Readonly<RankRecord> {
    return this.current;
  }

  get finished(): boolean {
    return isFinished(this.current.phase);
  }

  /** Resolves when the hooks are done (or the runner was detached). */
  whenDone(): Promise<void> {
    return this.done;
  }

  /** The pid to report: the user process once known, else the supervisor's, else 0. */
  get pid(): number {
    return this.childInfo()?.pid ?? this.current.supervisor?.pid ?? 0;
  }

  /** The user process's group, once the supervisor announced it. */
  get pgid(): number | undefined {
    return this.childInfo()?.pgid;
  }

  /** SIGTERM to the process group now, SIGKILL after `graceMs` (at once when 0). */
  stop(graceMs: number, reason: string): void {
    if (this.finished) return;
    if (!this.current.stop) this.update({ stop: { requestedMs: this.deps.clock.now(), graceMs, reason } });
    this.stopCtl.abort(new Error(reason));
    this.applyStop(graceMs);
  }

  /** Stops watching the rank without touching its process (the agent is closing). */
  detach(): void {
    clearTimeout(this.killTimer);
    this.detachCtl.abort(new Error('the agent is closing'));
  }

  private applyStop(graceMs: number): void {
    if (!this.current.supervisor) return;
    if (graceMs <= 0) {
      this.kill('SIGKILL');
      return;
    }
    this.kill('SIGTERM');
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.kill('SIGKILL'), graceMs);
  }

  private kill(signal: NodeJS.Signals): void {
    const supervisor = this.current.supervisor;
    if (!supervisor || this.finished || readExit(this.dir)) return;
    const child = this.childInfo();
    if (child && isAlive(supervisor)) {
      signalGroup(child.pgid, signal);
    } else {
      signalProcess(supervisor, signal);
    }
  }

  private childInfo(): ChildFile | undefined {
    this.child ??= this.dir.readJson<ChildFile>('child.json');
    return this.child;
  }

  private async runHooks(): Promise<void> {
    const ctx = this.context(AbortSignal.any([this.stopCtl.signal, this.detachCtl.signal]));
    try {
      await materialize(ctx);
      const launch = await prestart(ctx);
      await gpuCheck(ctx);
      if (this.stopCtl.signal.aborted) throw new Error('stopped');
      await this.deps.rankServices?.open(this.spec, this.dir);
      const supervisor = await start(ctx, launch);
      this.update({ phase: 'running', startedMs: this.deps.clock.now(), supervisor });
      if (this.current.stop) this.applyStop(this.current.stop.graceMs);
    } catch (err) {
      if (this.detachCtl.signal.aborted) return;
      if (this.current.stop) {
        await this.finish('exited', { exitCode: null, signal: 'SIGTERM', message: `stopped before the process started: ${this.current.stop.reason}`, endedMs: this.deps.clock.now() });
      } else {
        await this.finish('failed_to_start', { exitCode: null, signal: null, message: startFailure(this.dir.root, err), endedMs: this.deps.clock.now() });
      }
      return;
    }
    await this.watch();
  }

  private async resume(): Promise<void> {
    if (this.finished) return;
    const supervisor = this.current.supervisor ?? this.announcedSupervisor();
    if (!supervisor) {
      await this.finish('failed_to_start', { exitCode: null, signal: null, message: 'the agent restarted before the process started', endedMs: this.deps.clock.now() });
      return;
    }
    if (this.current.phase !== 'running') this.update({ phase: 'running', startedMs: this.current.startedMs ?? this.deps.clock.now(), supervisor });
    await this.deps.rankServices?.open(this.spec, this.dir).catch((err: unknown) => {
      this.deps.logger.warn('cannot reopen the services of a re-adopted rank', { session: this.spec.session, rank: this.spec.rank, error: errorMessage(err) });
    });
    const stop = this.current.stop;
    if (stop) this.applyStop(Math.max(0, stop.requestedMs + stop.graceMs - this.deps.clock.now()));
    await this.watch();
  }

  private announcedSupervisor(): ProcessIdentity | undefined {
    const s = this.dir.readJson<{ pid: number; startTicks: string | null }>('supervisor.json');
    return s ? { pid: s.pid, startTicks: s.startTicks ?? null } : undefined;
  }

  private async watch(): Promise<void> {
    let end: RankEnd;
    try {
      end = await exited(this.context(this.detachCtl.signal), this.current.supervisor!);
    } catch {
      return; // detached
    }
    await this.finish('exited', end);
  }

  private async finish(phase: 'exited' | 'failed_to_start', end: RankEnd): Promise<void> {
    clearTimeout(this.killTimer);
    try {
      await cleanup(this.context(this.detachCtl.signal));
    } catch (err) {
      this.deps.logger.warn('cannot remove a finished workspace', { session: this.spec.session, error: errorMessage(err) });
    }
    await this.deps.rankServices?.close(this.spec, this.dir).catch((err: unknown) => {
      this.deps.logger.warn('cannot close the services of a finished rank', { session: this.spec.session, rank: this.spec.rank, error: errorMessage(err) });
    });
    this.update({ phase, end: end.exitCode === null && end.signal === null && phase === 'exited' ? lostEnd(end.endedMs) : end });
  }

  private context(signal: AbortSignal): RankContext {
    return { spec: this.spec, dir: this.dir, deps: this.deps, signal };
  }

  private update(patch: Partial<RankRecord>): void {
    this.current = { ...this.current, ...patch };
    this.persist();
    this.onChange(this);
  }

  /** A full disk defers the write (the record in memory stays right); nothing here may throw. */
  private persist(): void {
    try {
      this.dir.writeJson('state.json', this.current);
    } catch (err) {
      this.deps.logger.error('cannot write a rank\'s state.json', { session: this.spec.session, rank: this.spec.rank, error: errorMessage(err) });
    }
  }
}

/** Why a rank could not start; a full disk says so with its code, and flags the node full. */
function startFailure(root: string, err: unknown): string {
  if (!noteDiskFull(root, err)) return errorMessage(err);
  return diskFullError('the session\'s files on this node', err).message;
}

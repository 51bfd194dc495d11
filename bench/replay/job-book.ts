/** What the replay knows of one session: its trace run time, and the work saved by checkpoints. */
export interface BookedJob {
  durationMs: number;
  checkpointIntervalMs: number;
  restartDelayMs: number;
  savedMs: number;
  /** The current run: its epoch, and when its work started (trace time). */
  run?: { epoch: number; workStartMs: number; finishAtMs: number; ended: boolean };
}

/**
 * The shared truth of the simulated processes, across the agents of a gang: each run starts
 * once per epoch (a resumed run first spends the restart delay), finishes after the work not
 * yet saved, and a stopped run keeps the work up to its last checkpoint, as the simulator models it.
 */
export class JobBook {
  private readonly jobs = new Map<string, BookedJob>();

  add(job: string, entry: Omit<BookedJob, 'savedMs' | 'run'>): void {
    this.jobs.set(job, { ...entry, savedMs: 0 });
  }

  has(session: string): boolean {
    return this.jobs.has(session);
  }

  /** Starts (or joins) the run of `epoch` at `nowMs`; returns when it finishes. */
  begin(session: string, epoch: number, nowMs: number): BookedJob['run'] & object {
    const job = this.jobs.get(session)!;
    if (job.run?.epoch === epoch) return job.run;
    const workStartMs = nowMs + (epoch > 1 ? job.restartDelayMs : 0);
    job.run = { epoch, workStartMs, finishAtMs: workStartMs + job.durationMs - job.savedMs, ended: false };
    return job.run;
  }

  /** Times (trace) at which the run of `epoch` reaches each checkpoint before it finishes. */
  checkpointTimes(session: string): number[] {
    const job = this.jobs.get(session)!;
    const run = job.run!;
    const out: number[] = [];
    for (let t = run.workStartMs + job.checkpointIntervalMs; t < run.finishAtMs; t += job.checkpointIntervalMs) out.push(t);
    return out;
  }

  /** The run of `epoch` stops at `nowMs`: the work up to its last checkpoint is kept. */
  stop(session: string, epoch: number, nowMs: number): void {
    const job = this.jobs.get(session)!;
    const run = job.run;
    if (!run || run.epoch !== epoch || run.ended) return;
    run.ended = true;
    const worked = Math.max(0, nowMs - run.workStartMs);
    job.savedMs += Math.floor(worked / job.checkpointIntervalMs) * job.checkpointIntervalMs;
  }

  finish(session: string, epoch: number): void {
    const run = this.jobs.get(session)?.run;
    if (run && run.epoch === epoch) run.ended = true;
  }
}

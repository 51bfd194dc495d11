import { performance } from 'node:perf_hooks';
import { ErrorCodes, NsmlError } from '../common/errors.js';
import { accrueUsage, checkPlan } from '../coordinator/scheduler/index.js';
import type { NodeView, PendingSession, Plan, RunningSession, Snapshot } from '../coordinator/scheduler/index.js';
import { EventHeap } from './heap.js';
import { summarize, type JobOutcome, type SimResult } from './metrics.js';
import { compileSimOptions, type CompiledSimOptions, type SimOptions } from './options.js';
import type { TraceJob } from './trace.js';

interface Job {
  index: number;
  gpus: number;
  durationMs: number;
  /** Work saved by checkpoints so far (a resumed run starts from here). */
  savedMs: number;
  pending: PendingSession;
  firstStartMs: number;
  finishMs: number;
  preemptions: number;
  runs: number;
}

interface Run {
  job: Job;
  session: RunningSession;
  workStartMs: number;
  finishAtMs: number;
  ended: boolean;
}

type SimEvent = { kind: 'finish' | 'stop'; run: Run };

/** The outcome of a replay: the printed figures plus what tests and benchmarks look at. */
export interface SimRun {
  result: SimResult;
  outcomes: JobOutcome[];
  /** Jobs that never finished (a shape that never fits, or a policy that never placed them). */
  unfinished: number;
  /** Decayed fair-share usage per user when the replay ended, GPU-seconds. */
  usageByUser: Record<string, number>;
  decisions: number;
  placements: number;
  decideMs: number[];
}

/**
 * Replays a trace through a scheduling policy in simulated time. Each scheduling step builds a
 * Snapshot, calls the policy's `decide`, checks the plan and applies it: the same functions and
 * the same contract as the coordinator. Events at one instant: completions first (then one
 * decision), then arrivals (then one decision); a policy may also ask to be woken later.
 */
export function simulate(trace: TraceJob[], options: SimOptions): SimRun {
  return new Simulation(trace, compileSimOptions(options)).run();
}

class Simulation {
  private readonly nodes: NodeView[];
  private readonly jobs: Job[];
  private readonly byId = new Map<string, Job>();
  private readonly heap = new EventHeap<SimEvent>();
  private readonly runs = new Map<string, Run>();
  private queue: PendingSession[] = [];
  private readonly usage: Record<string, number>;
  private readonly held = new Map<string, number>();
  private nowMs = 0;
  private wakeAtMs = Infinity;
  private readonly decideMs: number[] = [];
  private placements = 0;

  constructor(
    trace: TraceJob[],
    private readonly o: CompiledSimOptions,
  ) {
    this.usage = { ...o.initialUsage };
    this.nodes = Array.from({ length: o.nodes }, (_, i) => ({
      id: `n${String(i).padStart(String(o.nodes - 1).length, '0')}`,
      gpus: Array.from({ length: o.gpusPerNode }, (_, g) => g),
      unusableGpus: [],
      cpus: 0,
      memoryMib: 0,
      schedulable: true,
    }));
    const origin = trace.reduce((m, j) => Math.min(m, j.submissionS), Infinity);
    const sorted = trace.map((t, i) => ({ t, i })).sort((a, b) => a.t.submissionS - b.t.submissionS || a.i - b.i);
    this.jobs = sorted.map(({ t }, index) => this.jobOf(t, index, Math.round((t.submissionS - origin) * o.submitScale * 1000)));
    for (const j of this.jobs) {
      if (this.byId.has(j.pending.id)) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `the trace has job_id ${j.pending.id} twice; job ids must be unique`);
      this.byId.set(j.pending.id, j);
    }
  }

  run(): SimRun {
    let next = 0;
    for (;;) {
      const arrivalMs = this.jobs[next]?.pending.submittedAtMs ?? Infinity;
      const eventMs = this.heap.peekTime();
      const t = Math.min(arrivalMs, eventMs, this.wakeAtMs);
      if (t === Infinity) break;
      this.advance(t);
      const woken = this.wakeAtMs === t;
      if (eventMs === t) {
        while (this.heap.peekTime() === t) this.handle(this.heap.pop()!);
        this.step();
      }
      if (arrivalMs === t) {
        while (this.jobs[next]?.pending.submittedAtMs === t) this.queue.push(this.jobs[next++]!.pending);
        this.step();
      }
      if (woken && eventMs !== t && arrivalMs !== t) this.step();
    }
    const outcomes = this.jobs.map((j) => ({ id: j.pending.id, gpus: j.gpus, submitMs: j.pending.submittedAtMs, durationMs: j.durationMs, firstStartMs: j.firstStartMs, finishMs: j.finishMs, preemptions: j.preemptions }));
    const totalMs = this.decideMs.reduce((a, b) => a + b, 0);
    const result = summarize(this.o.policy, outcomes, this.o.nodes * this.o.gpusPerNode, totalMs > 0 ? (this.decideMs.length * 1000) / totalMs : 0);
    return {
      result,
      outcomes,
      unfinished: outcomes.filter((x) => !Number.isFinite(x.finishMs)).length,
      usageByUser: { ...this.usage },
      decisions: this.decideMs.length,
      placements: this.placements,
      decideMs: this.decideMs,
    };
  }

  private jobOf(t: TraceJob, index: number, submitMs: number): Job {
    const pending: PendingSession = { id: t.id, user: t.user, gpus: t.gpus, gpusPerNode: 0, cpus: 0, memoryMib: 0, priority: t.priority, submittedAtMs: submitMs };
    const job: Job = { index, gpus: t.gpus, durationMs: Math.round(t.durationS * 1000), savedMs: 0, pending, firstStartMs: Infinity, finishMs: Infinity, preemptions: 0, runs: 0 };
    if (this.o.declareDurations) pending.expectedDurationMs = job.durationMs;
    return job;
  }

  /** Moves the clock, accruing decayed fair-share usage for what ran meanwhile. */
  private advance(t: number): void {
    const elapsed = t - this.nowMs;
    if (elapsed > 0) {
      for (const u of Object.keys(this.usage)) this.usage[u] = accrueUsage(this.usage[u]!, this.held.get(u) ?? 0, elapsed, this.o.halfLifeMs);
    }
    this.nowMs = t;
    if (this.wakeAtMs <= t) this.wakeAtMs = Infinity;
  }

  private step(): void {
    const snapshot = this.snapshot();
    const started = performance.now();
    const plan = this.o.decide(snapshot, this.nowMs);
    this.decideMs.push(performance.now() - started);
    if (this.o.validate) {
      const problems = checkPlan(snapshot, plan);
      if (problems.length > 0) throw new NsmlError(ErrorCodes.INTERNAL, `policy ${this.o.policy} made an unsound plan at ${this.nowMs} ms: ${problems.slice(0, 5).join('; ')}`);
    }
    this.apply(plan);
    this.wakeAtMs = plan.wakeAtMs !== undefined && plan.wakeAtMs > this.nowMs ? plan.wakeAtMs : Infinity;
  }

  private snapshot(): Snapshot {
    const running: RunningSession[] = [];
    for (const run of this.runs.values()) {
      const s = run.session;
      const worked = this.nowMs - run.workStartMs;
      s.lastCheckpointAtMs = worked >= this.o.checkpointIntervalMs ? run.workStartMs + Math.floor(worked / this.o.checkpointIntervalMs) * this.o.checkpointIntervalMs : undefined;
      running.push(s);
    }
    return { nodes: this.nodes, pending: this.queue, running, usageByUser: { ...this.usage } };
  }

  private apply(plan: Plan): void {
    if (plan.placements.length > 0) {
      const placed = new Set<string>();
      for (const p of plan.placements) {
        placed.add(p.sessionId);
        this.start(this.byId.get(p.sessionId)!, p.assignments);
      }
      this.queue = this.queue.filter((s) => !placed.has(s.id));
    }
    for (const v of plan.preemptions) {
      const run = this.runs.get(v.sessionId);
      if (!run || run.session.stopping) continue;
      run.session.stopping = true;
      this.heap.push(this.nowMs + this.o.graceMs, { kind: 'stop', run });
    }
  }

  private start(job: Job, assignments: RunningSession['assignments']): void {
    const resumed = job.runs > 0;
    job.runs++;
    job.firstStartMs = Math.min(job.firstStartMs, this.nowMs);
    const workStartMs = this.nowMs + (resumed ? this.o.restartDelayMs : 0);
    const remaining = job.durationMs - job.savedMs;
    const p = job.pending;
    const session: RunningSession = {
      id: p.id,
      user: p.user,
      gpus: p.gpus,
      cpus: p.cpus,
      memoryMib: p.memoryMib,
      priority: p.priority,
      startedAtMs: this.nowMs,
      assignments,
      submittedAtMs: p.submittedAtMs,
      queuedAtMs: p.queuedAtMs ?? p.submittedAtMs,
      attainedGpuMs: p.attainedGpuMs ?? 0,
    };
    if (this.o.declareDurations) session.expectedDurationMs = workStartMs - this.nowMs + remaining;
    const run: Run = { job, session, workStartMs, finishAtMs: workStartMs + remaining, ended: false };
    this.runs.set(p.id, run);
    this.hold(p.user, p.gpus);
    this.placements++;
    this.heap.push(run.finishAtMs, { kind: 'finish', run });
  }

  private handle(e: SimEvent): void {
    const run = e.run;
    if (run.ended) return;
    run.ended = true;
    this.runs.delete(run.job.pending.id);
    this.hold(run.session.user, -run.session.gpus);
    if (e.kind === 'finish') {
      run.job.finishMs = this.nowMs;
      return;
    }
    this.requeue(run);
  }

  /** A preempted run loses the work since its last checkpoint and goes back to the queue. */
  private requeue(run: Run): void {
    const job = run.job;
    const worked = Math.max(0, this.nowMs - run.workStartMs);
    job.savedMs += Math.floor(worked / this.o.checkpointIntervalMs) * this.o.checkpointIntervalMs;
    job.preemptions++;
    const p = job.pending;
    p.queuedAtMs = this.nowMs;
    p.attainedGpuMs = (p.attainedGpuMs ?? 0) + p.gpus * (this.nowMs - run.session.startedAtMs);
    if (this.o.declareDurations) p.expectedDurationMs = job.durationMs - job.savedMs + this.o.restartDelayMs;
    const at = this.queue.findIndex((s) => this.byId.get(s.id)!.index > job.index);
    this.queue.splice(at < 0 ? this.queue.length : at, 0, p);
  }

  private hold(user: string, gpus: number): void {
    this.held.set(user, (this.held.get(user) ?? 0) + gpus);
    this.usage[user] ??= 0;
  }
}

import type { Clock } from '../../common/clock.js';
import { SCRATCH } from '../../common/names.js';
import type { NodeInventory__Output, StartSession } from '../../common/proto/types.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { AssignmentRow, SessionPatch, SessionRow, SessionState, Store } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import type { Effects } from './effects.js';
import { gangOutcome } from './gang-state.js';
import { resumeArgs, resumeEnv } from './resume.js';
import { startRuntimeFields } from './environment-check.js';

export interface StopRanksOptions {
  /** Leave the rank on this node alone (its node is gone). */
  exceptNode?: string;
  /** Ask the script to save before SIGTERM (preemption). */
  checkpoint?: boolean;
}

/**
 * The primitives of session state changes. Each is meant to run inside a store transaction,
 * collecting what to do after commit in `Effects`.
 */
export class SessionOps {
  constructor(
    readonly store: Store,
    readonly agents: AgentRegistry,
    readonly clock: Clock,
  ) {}

  /** Moves a session to `state` and records the event. */
  transition(fx: Effects, s: SessionRow, state: SessionState, reason: string, exitCode?: number): void {
    const now = this.clock.now();
    const patch: SessionPatch = { state, reason };
    if (state === 'running' && s.startedMs === 0) patch.startedMs = now;
    if (isTerminal(state)) {
      patch.endedMs = now;
      if (exitCode !== undefined) patch.exitCode = exitCode;
      fx.reschedule = true;
    }
    this.store.updateSession(s.name, patch);
    this.store.addEvent(s.name, now, state, reason);
    Object.assign(s, patch);
    fx.changed.add(s.name);
  }

  /** Applies what the ranks imply to the session (running, succeeded, failed, stopped...). */
  settle(fx: Effects, name: string): void {
    const s = this.store.getSession(name);
    if (!s) return;
    const ranks = this.store.assignments(name, s.epoch);
    const out = gangOutcome(s, ranks);
    if (!out) return;
    if (out.state === 'preempted') {
      this.requeue(fx, s, out.reason);
      return;
    }
    this.transition(fx, s, out.state, out.reason, out.exitCode);
    if (out.stopOthers) this.stopRanks(fx, s, ranks, 0, `another rank ended: ${out.reason}`);
  }

  /**
   * Every rank of a preempted session has exited: its run ends `preempted` (an event), and the
   * session goes back to the queue under the same name. The GPU time of the run counts as
   * attained service; the next placement gets a new epoch and resumes from the last checkpoint.
   */
  requeue(fx: Effects, s: SessionRow, reason: string): void {
    const now = this.clock.now();
    const runStart = s.placedMs || s.startedMs || now;
    const why = `requeued after it was ${reason}`;
    const patch: SessionPatch = {
      state: 'queued', reason: why, queuedMs: now, placedMs: 0, preemptedFor: '', stopRequestedMs: 0, stopGraceMs: 0,
      attainedGpuMs: s.attainedGpuMs + s.gpus * Math.max(0, now - runStart), preemptions: s.preemptions + 1,
    };
    this.store.addEvent(s.name, now, 'preempted', reason);
    this.store.updateSession(s.name, patch);
    this.store.addEvent(s.name, now, 'queued', why);
    Object.assign(s, patch);
    fx.changed.add(s.name);
    fx.reschedule = true;
  }

  /** Sends stop to every rank that was started and has not exited (one per node). */
  stopRanks(fx: Effects, s: SessionRow, ranks: AssignmentRow[], graceMs: number, reason: string, options: StopRanksOptions = {}): void {
    const sent = new Set<string>();
    for (const r of ranks) {
      if (r.state === 'exited' || r.state === 'pending' || r.nodeId === options.exceptNode || sent.has(r.nodeId)) continue;
      sent.add(r.nodeId);
      fx.stop(r.nodeId, s.name, s.epoch, graceMs, reason, options.checkpoint ?? false);
    }
  }

  /** A rank's process is gone (node down, agent restarted without it): the session is lost. */
  rankGone(fx: Effects, s: SessionRow, rank: AssignmentRow, reason: string, graceMs: number): void {
    if (isTerminal(s.state)) return;
    if (s.stopRequestedMs > 0) {
      this.store.updateRank(s.name, s.epoch, rank.rank, { state: 'exited', message: reason });
      this.settle(fx, s.name);
      return;
    }
    const ranks = this.store.assignments(s.name, s.epoch);
    this.transition(fx, s, 'lost', reason);
    this.stopRanks(fx, s, ranks, graceMs, `the gang lost a rank: ${reason}`, { exceptNode: rank.nodeId });
  }

  /** Sends `start` for every rank of `s` not yet started whose agent is connected. */
  startPending(fx: Effects, s: SessionRow): void {
    if (!['scheduled', 'starting', 'running'].includes(s.state)) return;
    const ranks = this.store.assignments(s.name, s.epoch);
    const master = this.masterAddr(ranks[0]?.nodeId);
    for (const r of ranks) {
      if (r.state !== 'pending' || !this.agents.isConnected(r.nodeId)) continue;
      fx.send(r.nodeId, { start: this.start(s, r, ranks.length, master) });
      this.store.updateRank(s.name, s.epoch, r.rank, { state: 'sent' });
    }
    this.settle(fx, s.name);
  }

  /** Sends `start` again for one rank (the agent does not have it). */
  resendStart(fx: Effects, s: SessionRow, r: AssignmentRow): void {
    const ranks = this.store.assignments(s.name, s.epoch);
    fx.send(r.nodeId, { start: this.start(s, r, ranks.length, this.masterAddr(ranks[0]?.nodeId)) });
    if (r.state === 'pending') this.store.updateRank(s.name, s.epoch, r.rank, { state: 'sent' });
  }

  /** The `start` of one rank: a session that was preempted resumes from its newest checkpoint. */
  private start(s: SessionRow, r: AssignmentRow, worldSize: number, master: string): StartSession {
    const msg = startMessage(s, r, worldSize, master);
    const resume = resumeEnv(this.store, s);
    if (Object.keys(resume).length > 0) msg.env = { ...msg.env, ...resume };
    msg.args = resumeArgs(this.store, s);
    return { ...msg, datasets: this.store.datasets.pinsOf(s.name) };
  }

  private masterAddr(nodeId: string | undefined): string {
    const inv: NodeInventory__Output | undefined = nodeId ? this.store.getNode(nodeId)?.inventory : undefined;
    return inv?.address ? inv.address : '127.0.0.1';
  }
}

export function startMessage(s: SessionRow, r: AssignmentRow, worldSize: number, masterAddr: string): StartSession {
  return {
    session: s.name,
    epoch: s.epoch,
    rank: r.rank,
    worldSize,
    gpuIndices: r.gpuIndices,
    entry: s.entry,
    args: s.args,
    env: s.env,
    workspace: s.workspace,
    masterAddr,
    masterPort: s.masterPort,
    dataset: s.dataset === SCRATCH ? '' : s.dataset,
    user: s.user,
    localWorldSize: 1,
    nodeRank: r.rank,
    ...startRuntimeFields(s), // agent/env: python, image, shm, cpus, memory
  };
}

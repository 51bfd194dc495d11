import type { Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { RunningProcess__Output, SessionStatus__Output } from '../../common/proto/types.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { Hub } from '../hub.js';
import type { NewSession, SessionRow, Store } from '../store/types.js';
import { ACTIVE_STATES, isTerminal } from '../store/types.js';
import type { Plan } from '../scheduler/types.js';
import { type AppliedPlan, applyPlan } from './apply-plan.js';
import { Effects } from './effects.js';
import { reconcileNode } from './reconcile.js';
import { SessionOps } from './session-ops.js';
import { timeLimitDeadline, timeLimitReason } from './time-limit.js';

export interface LifecycleDeps {
  store: Store;
  agents: AgentRegistry;
  hub: Hub;
  clock: Clock;
  logger: Logger;
  stopGraceMs: number;
  heartbeatTimeoutMs: number;
  /** Asks for a scheduling pass soon (coalesced). */
  requestSchedule: () => void;
}

/**
 * Every change of a session's state, each in one transaction; messages to agents and
 * notifications go out only after the commit.
 */
export class Lifecycle {
  readonly ops: SessionOps;
  /** When a stop was last sent for NODE|SESSION|EPOCH from a heartbeat, so it is not sent every beat. */
  private readonly stopSentAt = new Map<string, number>();

  constructor(private readonly deps: LifecycleDeps) {
    this.ops = new SessionOps(deps.store, deps.agents, deps.clock);
  }

  private change<T>(fn: (fx: Effects) => T): T {
    const fx = new Effects();
    const out = this.deps.store.transaction(() => fn(fx));
    this.flush(fx);
    return out;
  }

  private flush(fx: Effects): void {
    for (const [nodeId, message] of fx.messages) {
      if (!this.deps.agents.send(nodeId, message)) {
        this.deps.logger.debug('agent not connected; message not sent', { nodeId, kind: Object.keys(message)[0] });
      }
    }
    for (const name of fx.changed) {
      const row = this.deps.store.getSession(name);
      if (row) this.deps.hub.emitSession(row);
    }
    if (fx.reschedule) this.deps.requestSchedule();
  }

  submit(session: NewSession, reason: string): SessionRow {
    const row = this.change((fx) => {
      fx.reschedule = true;
      return this.deps.store.insertSession(session, this.deps.clock.now(), reason);
    });
    return row;
  }

  /**
   * Applies a scheduling plan in one transaction: placements (and their `start`), preemptions
   * (victims asked to save and stop within the stop grace period), wait reasons.
   */
  applyPlan(plan: Plan, nowMs: number): AppliedPlan {
    return this.change((fx) => {
      const out = applyPlan(this.ops, fx, plan, nowMs, this.deps.stopGraceMs);
      for (const name of out.placed) this.ops.startPending(fx, this.deps.store.getSession(name)!);
      return out;
    });
  }

  /** A `session_status` from the agent of `nodeId`. */
  onStatus(nodeId: string, st: SessionStatus__Output): void {
    this.change((fx) => {
      const s = this.deps.store.getSession(st.session);
      const live = st.state !== 'exited' && st.state !== 'failed_to_start';
      if (!s || st.epoch !== s.epoch) {
        if (live && (!s || st.epoch < s.epoch)) fx.stop(nodeId, st.session, st.epoch, 0, `stale epoch ${st.epoch}: the session is ${s ? `at epoch ${s.epoch}` : 'unknown'}`);
        return;
      }
      const rank = this.deps.store.assignments(s.name, s.epoch).find((r) => r.rank === st.rank);
      if (!rank || rank.nodeId !== nodeId) {
        if (live) fx.stop(nodeId, s.name, st.epoch, 0, `rank ${st.rank} of epoch ${st.epoch} is not placed on node ${nodeId}`);
        return;
      }
      if (rank.state === 'exited') return;
      if (st.state === 'starting') {
        if (rank.state === 'pending' || rank.state === 'sent') this.deps.store.updateRank(s.name, s.epoch, st.rank, { state: 'starting' });
      } else if (st.state === 'running') {
        this.deps.store.updateRank(s.name, s.epoch, st.rank, { state: 'running' });
        if (isTerminal(s.state)) fx.stop(nodeId, s.name, s.epoch, 0, `the session already ended (${s.state})`);
      } else if (st.state === 'exited') {
        this.deps.store.updateRank(s.name, s.epoch, st.rank, { state: 'exited', exitCode: st.exitCode, signal: st.signal });
      } else if (st.state === 'failed_to_start') {
        this.deps.store.updateRank(s.name, s.epoch, st.rank, {
          state: 'exited', exitCode: undefined, message: `failed to start: ${st.message || 'no reason given'}`,
        });
      } else {
        this.deps.logger.warn('unknown session_status state', { nodeId, session: st.session, state: st.state });
        return;
      }
      this.ops.settle(fx, s.name);
    });
  }

  /** Applies a stop request by `user` (who may: coordinator/auth/session-access.ts, checked by the caller). */
  requestStop(name: string, user: string, graceMs: number): SessionRow {
    return this.change((fx) => {
      const s = this.deps.store.getSession(name);
      if (!s) throw new NsmlError(ErrorCodes.SESSION_NOT_FOUND, `no session named ${name}; list them with \`nsml ps -a\``);
      if (isTerminal(s.state)) throw new NsmlError(ErrorCodes.ALREADY_FINISHED, `session ${name} already finished (${s.state}: ${s.reason})`);
      if (s.state === 'queued') {
        this.ops.transition(fx, s, 'stopped', `stopped by ${user} before it was placed`);
        return this.deps.store.getSession(name)!;
      }
      // A stop asked during a preemption wins: the session ends `stopped` and is not requeued.
      this.beginStop(fx, s, graceMs, { reason: `stopping: asked by ${user}`, event: `stop requested by ${user}`, toRanks: `stopped by ${user}` });
      return this.deps.store.getSession(name)!;
    });
  }

  /**
   * Stops every running session whose declared run time (`--time`) is up, like `nsml stop` with
   * the default grace; it ends `stopped`, reason `time limit 2h reached`. Deadlines come from the
   * stored start and limit, so a limit that passed while the coordinator was down is enforced at
   * its first tick.
   */
  enforceTimeLimits(active: SessionRow[] = this.deps.store.sessionsInStates(['running'])): void {
    const now = this.deps.clock.now();
    const due = (s: SessionRow) => s.state === 'running' && s.stopRequestedMs === 0 && now >= (timeLimitDeadline(s) ?? Infinity);
    const overdue = active.filter(due);
    if (overdue.length === 0) return;
    this.change((fx) => {
      for (const stale of overdue) {
        const s = this.deps.store.getSession(stale.name);
        if (!s || !due(s)) continue;
        const why = timeLimitReason(s);
        this.deps.logger.info('session stopped at its time limit', { session: s.name, timeLimitS: s.timeLimitS });
        this.beginStop(fx, s, this.deps.stopGraceMs, { reason: `stopping: ${why}`, event: `stop: ${why}`, toRanks: why });
      }
    });
  }

  /** Records a stop request on `s` and sends stop to its ranks (inside a transaction). */
  private beginStop(fx: Effects, s: SessionRow, graceMs: number, text: { reason: string; event: string; toRanks: string }): void {
    const now = this.deps.clock.now();
    this.deps.store.updateSession(s.name, { stopRequestedMs: now, stopGraceMs: graceMs, preemptedFor: '', reason: text.reason });
    this.deps.store.addEvent(s.name, now, s.state, text.event);
    fx.changed.add(s.name);
    const ranks = this.deps.store.assignments(s.name, s.epoch);
    for (const r of ranks) {
      if (r.state === 'pending') this.deps.store.updateRank(s.name, s.epoch, r.rank, { state: 'exited', message: 'stopped before it started' });
    }
    this.ops.stopRanks(fx, s, ranks, graceMs, text.toRanks);
    this.ops.settle(fx, s.name);
  }

  /** Declares a node down: its sessions are lost, the other ranks of their gangs stopped. */
  markNodeDown(nodeId: string, reason: string): void {
    this.change((fx) => {
      const node = this.deps.store.getNode(nodeId);
      if (!node || node.state === 'down') return;
      this.deps.store.updateNode(nodeId, { state: 'down', reason });
      fx.reschedule = true;
      for (const a of this.deps.store.activeAssignments()) {
        if (a.nodeId !== nodeId || a.state === 'exited') continue;
        const s = this.deps.store.getSession(a.session);
        if (s) this.ops.rankGone(fx, s, a, `node ${nodeId} is down: ${reason}`, this.deps.stopGraceMs);
      }
    });
    this.deps.agents.get(nodeId)?.close(`node declared down: ${reason}`);
  }

  /** Registration: adopt, stop stale, resend start, or mark lost, per proto/agent-stream.md. */
  reconcile(nodeId: string, running: RunningProcess__Output[]): void {
    this.change((fx) => reconcileNode(this.ops, fx, nodeId, running, this.deps.stopGraceMs));
  }

  /** Heartbeat `running[]`: stops processes of stale epochs or finished sessions (rate-limited). */
  checkRunning(nodeId: string, running: RunningProcess__Output[]): void {
    const now = this.deps.clock.now();
    const fx = new Effects();
    for (const p of running) {
      if (p.state === 'exited') continue;
      const s = this.deps.store.getSession(p.session);
      const stale = !s || p.epoch < s.epoch || (p.epoch === s.epoch && isTerminal(s.state));
      const stopping = s && p.epoch === s.epoch && s.stopRequestedMs > 0;
      if (!stale && !stopping) continue;
      const key = `${nodeId}|${p.session}|${p.epoch}`;
      // A requested stop was sent when it was requested (and persisted): repeat it only once the
      // grace has passed, so a heartbeat never cuts short a rank that is saving before it stops.
      const sentAt = Math.max(this.stopSentAt.get(key) ?? 0, stale ? 0 : s!.stopRequestedMs);
      const graceMs = Math.max(this.deps.stopGraceMs, stale ? 0 : s!.stopGraceMs);
      if (now - sentAt < graceMs + this.deps.heartbeatTimeoutMs) continue;
      this.stopSentAt.set(key, now);
      const preempting = !stale && s!.preemptedFor !== '';
      fx.stop(nodeId, p.session, p.epoch, stale ? 0 : s!.stopGraceMs, stale ? `stale epoch ${p.epoch}` : 'stop requested', preempting);
    }
    if (this.stopSentAt.size > 10_000) this.stopSentAt.clear();
    this.flush(fx);
  }

  /** The periodic checks of the heartbeat monitor's tick, on one read of the active sessions. */
  tick(): void {
    const active = this.deps.store.sessionsInStates(ACTIVE_STATES);
    this.finishOverdueStops(active);
    this.enforceTimeLimits(active);
  }

  /** Sessions asked to stop whose ranks never confirmed: stopped after grace plus one heartbeat timeout. */
  finishOverdueStops(active: SessionRow[] = this.deps.store.sessionsInStates(ACTIVE_STATES)): void {
    const now = this.deps.clock.now();
    const overdue = active
      .filter((s) => s.stopRequestedMs > 0 && now > s.stopRequestedMs + s.stopGraceMs + this.deps.heartbeatTimeoutMs);
    if (overdue.length === 0) return;
    this.change((fx) => {
      for (const s of overdue) {
        for (const r of this.deps.store.assignments(s.name, s.epoch)) {
          if (r.state !== 'exited') this.deps.store.updateRank(s.name, s.epoch, r.rank, { state: 'exited', message: 'did not confirm the stop in time' });
        }
        this.ops.settle(fx, s.name);
      }
    });
  }
}

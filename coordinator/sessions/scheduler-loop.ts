import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import { explainWait, queueView, type QueueEntry } from '../scheduler/queue-view.js';
import type { Decide, Plan, Snapshot } from '../scheduler/types.js';
import type { Store } from '../store/types.js';
import { ACTIVE_STATES } from '../store/types.js';
import type { Lifecycle } from './lifecycle.js';
import { buildSnapshot } from './snapshot.js';
import { gpusByUser, UsageLedger } from './usage-ledger.js';

export interface SchedulerLoopStatus {
  passes: number;
  failures: number;
  lastError: string | undefined;
  placed: number;
  preempted: number;
  rejected: number;
  /** When the policy asked for its next pass (a session starts starving, a run may become a victim); undefined: none. */
  wakeAtMs: number | undefined;
}

export interface SchedulerLoopDeps {
  store: Store;
  agents: AgentRegistry;
  lifecycle: Lifecycle;
  decide: Decide;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Half-life of the decayed usage behind fair share. */
  usageHalfLifeMs?: number;
}

/** Longest delay a Node timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs the pure policy periodically, right after changes (coalesced) and when the last plan
 * asked to be woken: accrue fair-share usage, snapshot, decide, apply in one transaction
 * (placements with their `start`, preemptions with their `stop`). A failing pass is counted
 * and logged, never thrown. `queue` and `why` show the same policy's view without applying it.
 */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pendingSoon = false;
  private closed = false;
  private readonly usage: UsageLedger;
  readonly status: SchedulerLoopStatus = { passes: 0, failures: 0, lastError: undefined, placed: 0, preempted: 0, rejected: 0, wakeAtMs: undefined };

  constructor(private readonly deps: SchedulerLoopDeps) {
    this.usage = new UsageLedger(deps.store, deps.usageHalfLifeMs);
  }

  start(): void {
    this.timer = setInterval(() => this.pass(), this.deps.intervalMs);
    this.timer.unref();
    this.request();
  }

  /** Asks for a pass soon; many requests in one tick make one pass. */
  request(): void {
    if (this.pendingSoon || this.closed) return;
    this.pendingSoon = true;
    setImmediate(() => {
      this.pendingSoon = false;
      this.pass();
    });
  }

  pass(): void {
    if (this.closed) return;
    const { store } = this.deps;
    try {
      this.status.passes++;
      const now = this.deps.clock.now();
      const usageByUser = this.usage.accrue(this.heldGpus(), now);
      if (store.countInStates(['queued']) === 0) return this.wakeAt(undefined);
      const snapshot = this.snapshot(usageByUser);
      if (snapshot.pending.length === 0) return this.wakeAt(undefined);
      const plan = this.decide(snapshot, now);
      const applied = this.deps.lifecycle.applyPlan(plan, now);
      this.status.placed += applied.placed.length;
      this.status.preempted += applied.preempted.length;
      this.status.rejected += applied.rejected.length;
      for (const r of applied.rejected) this.deps.logger.info('stale plan step skipped', r);
      for (const p of plan.preemptions) if (applied.preempted.includes(p.sessionId)) this.deps.logger.info('preempting', { ...p });
      this.wakeAt(plan.wakeAtMs);
    } catch (err) {
      this.status.failures++;
      this.status.lastError = errorMessage(err);
      this.deps.logger.error('scheduling pass failed', { error: errorMessage(err) });
    }
  }

  /** `nsml queue`: every queued session in the policy's order with why it waits (nothing is applied or written). */
  queue(): { entries: QueueEntry[]; nowMs: number } {
    const now = this.deps.clock.now();
    const snapshot = this.snapshot(this.usage.peek(this.heldGpus(), now));
    return { entries: queueView(snapshot, now, this.deps.decide, this.decide(snapshot, now)), nowMs: now };
  }

  /** `nsml queue why SESSION` for a queued session; throws NSML_E_SESSION_NOT_FOUND when it is not queued. */
  why(session: string): QueueEntry {
    const now = this.deps.clock.now();
    const snapshot = this.snapshot(this.usage.peek(this.heldGpus(), now));
    return explainWait(snapshot, now, session, this.deps.decide, this.decide(snapshot, now));
  }

  private snapshot(usageByUser: Record<string, number>): Snapshot {
    const { store, agents } = this.deps;
    return buildSnapshot({
      store, usageByUser, isConnected: (id) => agents.isConnected(id), latestGpus: (id) => agents.gpus(id),
      latestDatasets: (id) => agents.datasets(id),
    });
  }

  private decide(snapshot: Snapshot, now: number): Plan {
    return snapshot.nodes.length > 0 ? this.deps.decide(snapshot, now) : this.noNodes(snapshot.pending.map((p) => p.id));
  }

  private heldGpus(): Map<string, number> {
    return gpusByUser(this.deps.store.sessionsInStates(ACTIVE_STATES), this.deps.store.sessionsInStates(['queued']));
  }

  /** Schedules one extra pass at `atMs` (replacing the previous one). */
  private wakeAt(atMs: number | undefined): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.status.wakeAtMs = atMs;
    if (atMs === undefined || this.closed) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, atMs - this.deps.clock.now()));
    this.wakeTimer = setTimeout(() => this.request(), delay);
    this.wakeTimer.unref();
  }

  private noNodes(ids: string[]): Plan {
    const known = this.deps.store.listNodes().length;
    const message = known === 0 ? 'no node has joined yet' : `no node is up (${known} known, all down)`;
    return { placements: [], preemptions: [], waiting: ids.map((sessionId) => ({ sessionId, kind: 'resources', message })) };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }
}

import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { Decide, Plan } from '../scheduler/types.js';
import type { Store } from '../store/types.js';
import { applyPlan } from './apply-plan.js';
import type { Lifecycle } from './lifecycle.js';
import { buildSnapshot } from './snapshot.js';

export interface SchedulerLoopStatus {
  passes: number;
  failures: number;
  lastError: string | undefined;
  placed: number;
  rejected: number;
}

/**
 * Runs the pure policy periodically and right after changes (coalesced): snapshot, decide,
 * apply in one transaction, then send `start`. A failing pass is counted and logged, never thrown.
 */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | undefined;
  private pendingSoon = false;
  private closed = false;
  readonly status: SchedulerLoopStatus = { passes: 0, failures: 0, lastError: undefined, placed: 0, rejected: 0 };

  constructor(private readonly deps: {
    store: Store; agents: AgentRegistry; lifecycle: Lifecycle; decide: Decide; clock: Clock; logger: Logger; intervalMs: number;
  }) {}

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
    const { store, agents } = this.deps;
    try {
      this.status.passes++;
      if (store.countInStates(['queued']) === 0) return;
      const snapshot = buildSnapshot({ store, isConnected: (id) => agents.isConnected(id), latestGpus: (id) => agents.gpus(id), latestDatasets: (id) => agents.datasets(id) });
      if (snapshot.pending.length === 0) return;
      const plan = snapshot.nodes.length > 0 ? this.deps.decide(snapshot, this.deps.clock.now()) : this.noNodes(snapshot.pending.map((p) => p.id));
      const applied = applyPlan(store, plan, this.deps.clock.now());
      this.status.placed += applied.placed.length;
      this.status.rejected += applied.rejected.length;
      for (const r of applied.rejected) this.deps.logger.info('stale placement skipped', r);
      if (applied.placed.length > 0) this.deps.lifecycle.sendStarts(applied.placed);
    } catch (err) {
      this.status.failures++;
      this.status.lastError = errorMessage(err);
      this.deps.logger.error('scheduling pass failed', { error: errorMessage(err) });
    }
  }

  private noNodes(ids: string[]): Plan {
    const known = this.deps.store.listNodes().length;
    const message = known === 0 ? 'no node has joined yet' : `no node is up (${known} known, all down)`;
    return { placements: [], preemptions: [], waiting: ids.map((sessionId) => ({ sessionId, kind: 'resources', message })) };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }
}

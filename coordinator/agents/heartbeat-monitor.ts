import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Lifecycle } from '../sessions/lifecycle.js';
import type { Store } from '../store/types.js';
import type { AgentRegistry } from './agent-registry.js';

export interface HeartbeatMonitorDeps {
  store: Store;
  agents: AgentRegistry;
  lifecycle: Lifecycle;
  clock: Clock;
  logger: Logger;
  timeoutMs: number;
  tickMs: number;
  /** When this coordinator started: every node gets one full timeout from then. */
  startedAtMs: number;
}

/**
 * Declares silent nodes down (their sessions lost), writes heartbeat times to the store in one
 * batch per tick, finishes stops that were never confirmed, and stops sessions past their time
 * limit. Never throws: failures are counted.
 */
export class HeartbeatMonitor {
  private timer: NodeJS.Timeout | undefined;
  failures = 0;
  nodesDown = 0;

  constructor(private readonly deps: HeartbeatMonitorDeps) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.deps.tickMs);
    this.timer.unref();
  }

  tick(): void {
    const { store, agents, lifecycle, clock, timeoutMs } = this.deps;
    try {
      store.recordHeartbeats(agents.takeHeartbeats());
      const now = clock.now();
      for (const node of store.nodeStates()) {
        if (node.state === 'down') continue;
        const last = Math.max(agents.lastSeen(node.id) ?? 0, this.deps.startedAtMs);
        if (now - last <= timeoutMs) continue;
        this.nodesDown++;
        this.deps.logger.warn('node down: heartbeat timeout', { nodeId: node.id, silentMs: now - last });
        lifecycle.markNodeDown(node.id, `no heartbeat for ${Math.round((now - last) / 1000)} s (timeout ${Math.round(timeoutMs / 1000)} s)`);
      }
      lifecycle.tick(); // overdue stops, time limits
    } catch (err) {
      this.failures++;
      this.deps.logger.error('heartbeat monitor tick failed', { error: errorMessage(err) });
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

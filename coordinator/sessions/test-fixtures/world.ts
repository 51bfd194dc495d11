import type { Clock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/log.js';
import type { CoordinatorMessage, GpuInfo__Output, SessionStatus__Output } from '../../../common/proto/types.js';
import { AgentRegistry, type AgentLink } from '../../agents/agent-registry.js';
import { Hub } from '../../hub.js';
import { openStore } from '../../store/sqlite-store.js';
import type { NewSession, SessionRow, Store } from '../../store/types.js';
import { Lifecycle } from '../lifecycle.js';

/** A clock the test sets. */
export class ManualClock implements Clock {
  constructor(public ms = 1_000_000) {}
  now(): number {
    return this.ms;
  }
}

/** An agent link that records what goes down the stream. */
export class RecordingLink implements AgentLink {
  readonly sent: CoordinatorMessage[] = [];
  constructor(readonly nodeId: string) {}
  send(message: CoordinatorMessage): boolean {
    this.sent.push(message);
    return true;
  }
  close(): void {}
  stops(): NonNullable<CoordinatorMessage['stop']>[] {
    return this.sent.flatMap((m) => (m.stop ? [m.stop] : []));
  }
  starts(): NonNullable<CoordinatorMessage['start']>[] {
    return this.sent.flatMap((m) => (m.start ? [m.start] : []));
  }
}

export const newSession = (over: Partial<NewSession> = {}): NewSession => ({
  user: 'alice', dataset: 'scratch', gpus: 1, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [], env: {},
  memo: '', workspace: 'f'.repeat(64), priority: 0, timeLimitS: 0, ...over,
});

const gpu = (index: number): GpuInfo__Output => ({ index, uuid: `GPU-${index}`, name: 'Fake', memoryTotalMib: 0, mig: '', health: 'ok', healthReason: '', processes: [] });

/**
 * An in-memory coordinator state for the session code: a SQLite store, connected nodes whose
 * links record messages, a manual clock and the real Lifecycle.
 */
export class World {
  readonly store: Store = openStore(':memory:');
  readonly clock = new ManualClock();
  readonly agents = new AgentRegistry();
  readonly links = new Map<string, RecordingLink>();
  readonly scheduled: number[] = [];
  readonly lifecycle: Lifecycle;

  constructor(readonly stopGraceMs = 500) {
    this.lifecycle = new Lifecycle({
      store: this.store, agents: this.agents, hub: new Hub(), clock: this.clock, logger: silentLogger,
      stopGraceMs, heartbeatTimeoutMs: 1000, requestSchedule: () => this.scheduled.push(this.clock.now()),
    });
  }

  addNode(id: string, gpus: number): RecordingLink {
    this.store.upsertNode(id, {
      hostname: id, os: '', cpus: 8, memoryMib: 0, diskFreeMib: 0, gpus: Array.from({ length: gpus }, (_, i) => gpu(i)),
      agentVersion: '', address: '', gpuProbeError: '', labels: {}, isolation: '', pythons: [], containerRuntime: '',
    }, this.clock.now());
    const link = new RecordingLink(id);
    this.agents.attach(link, this.clock.now());
    this.links.set(id, link);
    return link;
  }

  submit(over: Partial<NewSession> = {}): SessionRow {
    return this.lifecycle.submit(newSession(over), 'waiting for the scheduler');
  }

  get(name: string): SessionRow {
    return this.store.getSession(name)!;
  }

  /** Every rank of the session's current epoch reports `state` from its node. */
  report(name: string, state: 'running' | 'exited', exitCode?: number): void {
    const s = this.get(name);
    for (const r of this.store.assignments(name, s.epoch)) {
      const st: SessionStatus__Output = { session: name, epoch: s.epoch, rank: r.rank, state, signal: '', message: '', tsMs: this.clock.now() };
      if (exitCode !== undefined) st.exitCode = exitCode;
      this.lifecycle.onStatus(r.nodeId, st);
    }
  }

  close(): void {
    this.store.close();
  }
}

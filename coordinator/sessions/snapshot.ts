import type { GpuInfo__Output } from '../../common/proto/types.js';
import type { NodeView, PendingSession, RunningSession, Snapshot } from '../scheduler/types.js';
import type { AssignmentRow, NodeRow, SessionRow, Store } from '../store/types.js';

/** A GPU the scheduler must not use: unhealthy, or running a process that no session owns. */
export function gpuUnusable(g: GpuInfo__Output): boolean {
  const healthy = g.health === 'ok' || g.health === '';
  return !healthy || g.processes.some((p) => p.session === '');
}

/** The node as the scheduler sees it; `gpus` is the latest GPU state (heartbeat or inventory). */
export function nodeView(node: NodeRow, schedulable: boolean, gpus: GpuInfo__Output[] = node.inventory.gpus): NodeView {
  return {
    id: node.id,
    gpus: node.inventory.gpus.map((g) => g.index),
    unusableGpus: gpus.filter(gpuUnusable).map((g) => g.index),
    cpus: node.inventory.cpus,
    memoryMib: node.inventory.memoryMib,
    schedulable,
  };
}

export function pendingView(s: SessionRow): PendingSession {
  const p: PendingSession = {
    id: s.name, user: s.user, gpus: s.gpus, gpusPerNode: s.gpusPerNode, cpus: s.cpus > 0 ? s.cpus : 1,
    memoryMib: s.memoryMib, priority: s.priority, submittedAtMs: s.createdMs,
  };
  if (s.timeLimitS > 0) p.expectedDurationMs = s.timeLimitS * 1000;
  if (s.dataset !== 'scratch') p.datasets = [s.dataset];
  return p;
}

function runningView(s: SessionRow, assignments: AssignmentRow[]): RunningSession {
  const r: RunningSession = {
    id: s.name, user: s.user, gpus: s.gpus, cpus: s.cpus > 0 ? s.cpus : 1, memoryMib: s.memoryMib, priority: s.priority,
    startedAtMs: s.startedMs || s.createdMs,
    assignments: assignments.map((a) => ({ nodeId: a.nodeId, gpuIndices: a.gpuIndices, rank: a.rank })),
    stopping: s.stopRequestedMs > 0,
  };
  if (s.timeLimitS > 0) r.expectedDurationMs = s.timeLimitS * 1000;
  return r;
}

/** The dataset versions a node holds, when it reported any. */
function withHeld(view: NodeView, held: string[] | undefined): NodeView {
  if (held && held.length > 0) view.datasets = held;
  return view;
}

/** A pending session's datasets as the exact versions it pinned (NAME@V), for locality. */
function withPins(view: PendingSession, pins: Array<{ name: string; version: number }> | undefined): PendingSession {
  if (pins && pins.length > 0) view.datasets = pins.map((p) => `${p.name}@${p.version}`);
  return view;
}

export interface SnapshotSources {
  store: Store;
  isConnected(nodeId: string): boolean;
  latestGpus(nodeId: string): GpuInfo__Output[] | undefined;
  /** Dataset versions (NAME@V) the node holds, for locality; absent: unknown. */
  latestDatasets?(nodeId: string): string[];
}

/** Builds the scheduler's view from the store: nodes that are not down, the queue, and what runs. */
export function buildSnapshot(src: SnapshotSources): Snapshot {
  const nodes = src.store.listNodes()
    .filter((n) => n.state !== 'down')
    .map((n) => withHeld(nodeView(n, !n.draining && src.isConnected(n.id), src.latestGpus(n.id)), src.latestDatasets?.(n.id)));
  const pins = src.store.datasets.pinsInStates(['queued']);
  const pending = src.store.sessionsInStates(['queued']).map((s) => withPins(pendingView(s), pins.get(s.name)));
  const byName = new Map<string, AssignmentRow[]>();
  for (const a of src.store.activeAssignments()) {
    const list = byName.get(a.session) ?? [];
    list.push(a);
    byName.set(a.session, list);
  }
  const running = src.store.sessionsInStates(['scheduled', 'starting', 'running'])
    .map((s) => runningView(s, byName.get(s.name) ?? []));
  return { nodes, pending, running };
}

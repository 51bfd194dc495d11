import { SCRATCH } from '../../common/names.js';
import type { GpuInfo__Output } from '../../common/proto/types.js';
import type { NodeView, PendingSession, RunningSession, Snapshot } from '../scheduler/types.js';
import type { AssignmentRow, NodeRow, SessionRow, Store } from '../store/types.js';
import { ACTIVE_STATES } from '../store/types.js';
import { type DurationEstimate, createEstimator } from './duration-estimator.js';
import { neededTags, offeredTags } from './environment-tags.js';

/** A GPU the scheduler must not use: unhealthy, or running a process that no session owns. */
export function gpuUnusable(g: GpuInfo__Output): boolean {
  const healthy = g.health === 'ok' || g.health === '';
  return !healthy || g.processes.some((p) => p.session === '');
}

/** The node as the scheduler sees it; `gpus` is the latest GPU state (heartbeat or inventory); `offers` its Pythons and container runtime as tags. */
export function nodeView(node: NodeRow, schedulable: boolean, gpus: GpuInfo__Output[] = node.inventory.gpus): NodeView {
  const view: NodeView = {
    id: node.id,
    gpus: node.inventory.gpus.map((g) => g.index),
    unusableGpus: gpus.filter(gpuUnusable).map((g) => g.index),
    cpus: node.inventory.cpus,
    memoryMib: node.inventory.memoryMib,
    schedulable,
  };
  const offers = offeredTags(node.inventory);
  if (offers.length > 0) view.offers = offers;
  return view;
}

/** A queued session as the scheduler sees it; `needs` says what its nodes must offer (`--python`, `--image`). */
export function pendingView(s: SessionRow, estimate?: DurationEstimate): PendingSession {
  const p: PendingSession = {
    id: s.name, user: s.user, gpus: s.gpus, gpusPerNode: s.gpusPerNode, cpus: s.cpus > 0 ? s.cpus : 1,
    memoryMib: s.memoryMib, priority: s.priority, submittedAtMs: s.createdMs, queuedAtMs: s.queuedMs || s.createdMs,
  };
  if (s.attainedGpuMs > 0) p.attainedGpuMs = s.attainedGpuMs;
  const needs = neededTags(s.runtime);
  if (needs.length > 0) p.needs = needs;
  if (estimate) {
    p.expectedDurationMs = estimate.ms;
    p.expectedDurationSource = estimate.source;
  }
  if (s.dataset !== SCRATCH) p.datasets = [s.dataset];
  return p;
}

/** A session that holds a placement; `checkpointAtMs` counts only when it falls in the current run. */
export function runningView(s: SessionRow, assignments: AssignmentRow[], estimate?: DurationEstimate, checkpointAtMs?: number): RunningSession {
  const startedAtMs = s.placedMs || s.startedMs || s.createdMs;
  const r: RunningSession = {
    id: s.name, user: s.user, gpus: s.gpus, cpus: s.cpus > 0 ? s.cpus : 1, memoryMib: s.memoryMib, priority: s.priority,
    startedAtMs,
    assignments: assignments.map((a) => ({ nodeId: a.nodeId, gpuIndices: a.gpuIndices, rank: a.rank })),
    stopping: s.stopRequestedMs > 0,
    submittedAtMs: s.createdMs,
    queuedAtMs: s.queuedMs || s.createdMs,
  };
  if (s.attainedGpuMs > 0) r.attainedGpuMs = s.attainedGpuMs;
  if (estimate) r.expectedDurationMs = estimate.ms;
  if (checkpointAtMs !== undefined && checkpointAtMs >= startedAtMs) r.lastCheckpointAtMs = checkpointAtMs;
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
  /** Decayed GPU-seconds per user (UsageLedger); absent: no fair-share history. */
  usageByUser?: Record<string, number>;
}

/**
 * Builds the scheduler's view from the store: nodes that are not down (a draining, disk-full or
 * disconnected one takes nothing new), the queue (with its
 * priorities, queue times, attained service and run-time estimates), what runs (with its run
 * start, last checkpoint and whether it is stopping), and the users' decayed usage.
 */
export function buildSnapshot(src: SnapshotSources): Snapshot {
  const nodes = src.store.listNodes()
    .filter((n) => n.state !== 'down')
    .map((n) => withHeld(nodeView(n, !n.draining && !n.diskFull && src.isConnected(n.id), src.latestGpus(n.id)), src.latestDatasets?.(n.id)));
  const estimate = createEstimator(src.store);
  const pins = src.store.datasets.pinsInStates(['queued']);
  const pending = src.store.sessionsInStates(['queued']).map((s) => withPins(pendingView(s, estimate(s)), pins.get(s.name)));
  const byName = new Map<string, AssignmentRow[]>();
  for (const a of src.store.activeAssignments()) {
    const list = byName.get(a.session) ?? [];
    list.push(a);
    byName.set(a.session, list);
  }
  const checkpointed = src.store.checkpoints.lastCheckpointTimes(ACTIVE_STATES);
  const running = src.store.sessionsInStates(ACTIVE_STATES)
    .map((s) => runningView(s, byName.get(s.name) ?? [], estimate(s), checkpointed.get(s.name)));
  const snapshot: Snapshot = { nodes, pending, running };
  if (src.usageByUser) snapshot.usageByUser = src.usageByUser;
  return snapshot;
}

import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import type { GpuInfo__Output } from '../../common/proto/types.js';
import type { CollectorStatus } from '../blobs/blob-gc.js';
import { nodeState } from '../services/admin-service.js';
import { gpuUnusable } from '../sessions/snapshot.js';
import type { Store } from '../store/types.js';

/** What the cluster gauges read at scrape time; nothing is counted per event. */
export interface ClusterMetricSources {
  store: Pick<Store, 'countByStateAndUser' | 'sessionsInStates' | 'listNodes' | 'activeAssignments'>;
  /** The latest GPU state the agents reported, and when each node was last heard from. */
  agents: { gpus(nodeId: string): GpuInfo__Output[] | undefined; lastSeen(nodeId: string): number | undefined };
  /** The scheduling loop's counters since this coordinator started. */
  scheduler: { readonly status: { placed: number; preempted: number } };
  /** The blob collector: its last report holds the blob store's size. */
  gc: { readonly status: CollectorStatus };
  clock: Clock;
}

/** Node states as `nsml node ls` shows them; each is always exported, 0 when no node is in it. */
export const NODE_STATES = ['ready', 'draining', 'disk-full', 'down'] as const;

type Setter = (g: Gauge) => void;

/** A gauge whose samples are recomputed from the sources on every scrape. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], fill: Setter): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

/** A counter that mirrors a total kept elsewhere. */
function mirroredCounter(registry: Registry, name: string, help: string, total: () => number): void {
  new Counter({
    name, help, registers: [registry],
    collect() {
      this.reset();
      this.inc(total());
    },
  });
}

/** Registers the nsml_* session, queue, node, GPU, scheduler and blob metrics on `registry`. */
export function registerClusterMetrics(registry: Registry, src: ClusterMetricSources): void {
  registerSessionMetrics(registry, src);
  registerNodeMetrics(registry, src);
  registerGpuMetrics(registry, src);
  mirroredCounter(registry, 'nsml_scheduler_placements_total', 'Sessions placed by the scheduler since the coordinator started.', () => src.scheduler.status.placed);
  mirroredCounter(registry, 'nsml_scheduler_preemptions_total', 'Sessions preempted by the scheduler since the coordinator started.', () => src.scheduler.status.preempted);
  const kept = () => {
    const r = src.gc.status.lastReport;
    if (!r) return { blobs: 0, bytes: 0 };
    const removedStay = r.dryRun ? r.removed : { blobs: 0, bytes: 0 };
    return { blobs: r.kept.blobs + r.spared.blobs + removedStay.blobs, bytes: r.kept.bytes + r.spared.bytes + removedStay.bytes };
  };
  gauge(registry, 'nsml_blob_store_bytes', 'Bytes in the blob store as of the last collection (0 before the first one).', [], (g) => g.set(kept().bytes));
  gauge(registry, 'nsml_blob_store_blobs', 'Blobs in the blob store as of the last collection (0 before the first one).', [], (g) => g.set(kept().blobs));
}

function registerSessionMetrics(registry: Registry, src: ClusterMetricSources): void {
  gauge(registry, 'nsml_sessions', 'Sessions by state and user.', ['state', 'user'], (g) => {
    for (const row of src.store.countByStateAndUser()) g.set({ state: row.state, user: row.user }, row.count);
  });
  const queued = () => src.store.sessionsInStates(['queued']);
  gauge(registry, 'nsml_queue_sessions', 'Sessions waiting in the queue.', [], (g) => g.set(queued().length));
  gauge(registry, 'nsml_queue_oldest_wait_seconds', 'How long the longest-waiting queued session has waited (0 when the queue is empty).', [], (g) => {
    const since = queued().map((s) => s.queuedMs || s.createdMs);
    g.set(since.length === 0 ? 0 : Math.max(0, (src.clock.now() - Math.min(...since)) / 1000));
  });
}

function registerNodeMetrics(registry: Registry, src: ClusterMetricSources): void {
  gauge(registry, 'nsml_nodes', 'Nodes by state (ready, draining, disk-full, down).', ['state'], (g) => {
    const counts = new Map<string, number>(NODE_STATES.map((s) => [s, 0]));
    for (const n of src.store.listNodes()) counts.set(nodeState(n), (counts.get(nodeState(n)) ?? 0) + 1);
    for (const [state, count] of counts) g.set({ state }, count);
  });
  gauge(registry, 'nsml_node_gpus', 'GPUs a node offers.', ['node'], (g) => {
    for (const n of src.store.listNodes()) g.set({ node: n.id }, n.inventory.gpus.length);
  });
  gauge(registry, 'nsml_node_gpus_allocated', 'GPUs of a node held by sessions (scheduled, starting or running).', ['node'], (g) => {
    const held = new Map<string, number>();
    for (const a of src.store.activeAssignments()) held.set(a.nodeId, (held.get(a.nodeId) ?? 0) + a.gpuIndices.length);
    for (const n of src.store.listNodes()) g.set({ node: n.id }, held.get(n.id) ?? 0);
  });
  gauge(registry, 'nsml_node_gpus_unusable', 'GPUs of a node the scheduler avoids: unhealthy, or running a process no session owns.', ['node'], (g) => {
    for (const n of src.store.listNodes()) g.set({ node: n.id }, latestGpus(src, n.id, n.inventory.gpus).filter(gpuUnusable).length);
  });
  gauge(registry, 'nsml_node_heartbeat_age_seconds', 'Seconds since the node was last heard from.', ['node'], (g) => {
    const now = src.clock.now();
    for (const n of src.store.listNodes()) g.set({ node: n.id }, Math.max(0, (now - (src.agents.lastSeen(n.id) ?? n.lastHeartbeatMs)) / 1000));
  });
}

function latestGpus(src: ClusterMetricSources, nodeId: string, inventory: GpuInfo__Output[]): GpuInfo__Output[] {
  return src.agents.gpus(nodeId) ?? inventory;
}

/** Per-GPU gauges from the latest report of each node; a value the agent did not report is left out. */
function registerGpuMetrics(registry: Registry, src: ClusterMetricSources): void {
  const perGpu = (name: string, help: string, value: (gpu: GpuInfo__Output) => number | null | undefined) =>
    gauge(registry, name, help, ['node', 'gpu'], (g) => {
      for (const n of src.store.listNodes()) {
        for (const gpu of latestGpus(src, n.id, n.inventory.gpus)) {
          const v = value(gpu);
          if (v !== undefined && v !== null) g.set({ node: n.id, gpu: String(gpu.index) }, Number(v));
        }
      }
    });
  perGpu('nsml_gpu_utilization_percent', 'GPU utilisation in percent, as last reported.', (gpu) => gpu.utilizationPct);
  perGpu('nsml_gpu_memory_used_mib', 'GPU memory in use, MiB, as last reported.', (gpu) => gpu.memoryUsedMib);
  perGpu('nsml_gpu_memory_total_mib', 'GPU memory, MiB.', (gpu) => gpu.memoryTotalMib);
  perGpu('nsml_gpu_temperature_celsius', 'GPU temperature, degrees Celsius, as last reported.', (gpu) => gpu.temperatureC);
  perGpu('nsml_gpu_healthy', '1 when the GPU\'s health is ok, 0 when quarantined or lost.', (gpu) => (gpu.health === 'ok' || gpu.health === '' ? 1 : 0));
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GpuInfo__Output } from '../../common/proto/types.js';
import { parsePromText, sampleValue } from '../../test/harness/prom-text.js';
import type { CollectorStatus } from '../blobs/blob-gc.js';
import { openStore } from '../store/sqlite-store.js';
import type { NewSession, Store } from '../store/types.js';
import { createMetricsRegistry } from './metrics-registry.js';

const NOW = 1_000_000;

const session = (over: Partial<NewSession> = {}): NewSession => ({
  user: 'alice', dataset: 'mnist', gpus: 1, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [],
  env: {}, memo: '', workspace: 'f'.repeat(64), priority: 0, timeLimitS: 0, ...over,
});

const gpu = (index: number, over: Partial<GpuInfo__Output> = {}): GpuInfo__Output => ({
  index, uuid: `GPU-${index}`, name: 'Fake GPU', memoryTotalMib: 16384, mig: '', health: 'ok', healthReason: '', processes: [], ...over,
});

const inventory = (gpus: GpuInfo__Output[]) => ({
  hostname: 'h', os: '', cpus: 4, memoryMib: 100, diskFreeMib: 0, gpus, agentVersion: '', address: '', gpuProbeError: '', labels: {}, isolation: '', pythons: [], containerRuntime: '',
});

let store: Store;
let heartbeatGpus: Map<string, GpuInfo__Output[]>;
let gcStatus: CollectorStatus;

beforeEach(() => {
  store = openStore(':memory:');
  heartbeatGpus = new Map();
  gcStatus = { state: 'idle', runs: 0, failures: 0, lastReport: undefined, lastError: '' };
});
afterEach(() => store.close());

async function scrape() {
  const registry = createMetricsRegistry({
    store,
    agents: { gpus: (id) => heartbeatGpus.get(id), lastSeen: (id) => (id === 'n1' ? NOW - 1_500 : undefined) },
    scheduler: { status: { placed: 7, preempted: 2 } },
    gc: { get status() { return gcStatus; } },
    clock: { now: () => NOW },
  });
  return parsePromText(await registry.metrics());
}

describe('cluster metrics', () => {
  it('counts sessions by state and user and measures the queue', async () => {
    store.insertSession(session(), NOW - 30_000, 'waiting');
    store.insertSession(session(), NOW - 10_000, 'waiting');
    const running = store.insertSession(session({ user: 'bob "b"' }), NOW - 5_000, 'waiting');
    store.updateSession(running.name, { state: 'running' });
    const s = await scrape();
    expect(sampleValue(s, 'nsml_sessions', { state: 'queued', user: 'alice' })).toBe(2);
    expect(sampleValue(s, 'nsml_sessions', { state: 'running', user: 'bob "b"' })).toBe(1);
    expect(s.filter((x) => x.name === 'nsml_sessions')).toHaveLength(2);
    expect(sampleValue(s, 'nsml_queue_sessions')).toBe(2);
    expect(sampleValue(s, 'nsml_queue_oldest_wait_seconds')).toBe(30);
    expect(sampleValue(s, 'nsml_scheduler_placements_total')).toBe(7);
    expect(sampleValue(s, 'nsml_scheduler_preemptions_total')).toBe(2);
  });

  it('reports nodes by state, their GPUs, and each GPU from the latest heartbeat', async () => {
    store.upsertNode('n1', inventory([gpu(0), gpu(1), gpu(2)]), NOW - 60_000);
    store.upsertNode('n2', inventory([gpu(0)]), NOW - 60_000);
    store.updateNode('n2', { state: 'down', lastHeartbeatMs: NOW - 20_000 });
    store.upsertNode('n3', inventory([]), NOW - 60_000);
    store.updateNode('n3', { draining: true });
    heartbeatGpus.set('n1', [
      gpu(0, { utilizationPct: 87.5, memoryUsedMib: 4000, temperatureC: 66 }),
      gpu(1, { health: 'quarantined', utilizationPct: 0 }),
      gpu(2, { processes: [{ pid: 9, name: 'x', usedMemoryMib: 1, session: '' }] }),
    ]);
    const s1 = store.insertSession(session({ gpus: 1 }), NOW, 'waiting');
    store.insertAssignments([{ session: s1.name, epoch: 1, nodeId: 'n1', rank: 0, gpuIndices: [0], state: 'pending', exitCode: undefined, signal: '', message: '' }]);
    store.updateSession(s1.name, { state: 'running', epoch: 1 });
    const s = await scrape();
    expect(['ready', 'draining', 'disk-full', 'down'].map((state) => sampleValue(s, 'nsml_nodes', { state }))).toEqual([1, 1, 0, 1]);
    expect(sampleValue(s, 'nsml_node_gpus', { node: 'n1' })).toBe(3);
    expect(sampleValue(s, 'nsml_node_gpus_allocated', { node: 'n1' })).toBe(1);
    expect(sampleValue(s, 'nsml_node_gpus_allocated', { node: 'n2' })).toBe(0);
    expect(sampleValue(s, 'nsml_node_gpus_unusable', { node: 'n1' })).toBe(2);
    expect(sampleValue(s, 'nsml_node_heartbeat_age_seconds', { node: 'n1' })).toBe(1.5);
    expect(sampleValue(s, 'nsml_node_heartbeat_age_seconds', { node: 'n2' })).toBe(20);
    expect(sampleValue(s, 'nsml_gpu_utilization_percent', { node: 'n1', gpu: '0' })).toBe(87.5);
    expect(sampleValue(s, 'nsml_gpu_memory_used_mib', { node: 'n1', gpu: '0' })).toBe(4000);
    expect(sampleValue(s, 'nsml_gpu_memory_total_mib', { node: 'n2', gpu: '0' })).toBe(16384);
    expect(sampleValue(s, 'nsml_gpu_temperature_celsius', { node: 'n1', gpu: '0' })).toBe(66);
    // Values an agent did not report are left out rather than shown as 0.
    expect(sampleValue(s, 'nsml_gpu_temperature_celsius', { node: 'n1', gpu: '1' })).toBeUndefined();
    expect([0, 1, 2].map((g) => sampleValue(s, 'nsml_gpu_healthy', { node: 'n1', gpu: String(g) }))).toEqual([1, 0, 1]);
  });

  it('has the process metrics under its prefix and the blob store as of the last collection', async () => {
    expect(sampleValue(await scrape(), 'nsml_blob_store_bytes')).toBe(0);
    const count = (blobs: number, bytes: number) => ({ blobs, bytes });
    gcStatus = { ...gcStatus, runs: 1, lastReport: { dryRun: false, startedMs: NOW, tookMs: 1, manifests: 1, leases: 0, kept: count(3, 300), spared: count(1, 50), removed: count(4, 999), partialsRemoved: count(0, 0), failures: 0 } };
    const s = await scrape();
    expect(sampleValue(s, 'nsml_blob_store_bytes')).toBe(350);
    expect(sampleValue(s, 'nsml_blob_store_blobs')).toBe(4);
    expect(sampleValue(s, 'nsml_coordinator_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(s.some((x) => x.name === 'process_cpu_seconds_total')).toBe(false);
  });
});

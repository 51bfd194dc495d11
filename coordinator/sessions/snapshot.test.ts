import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewSession } from '../store/types.js';
import { buildSnapshot } from './snapshot.js';
import { World } from './test-fixtures/world.js';

let w: World;

beforeEach(() => {
  w = new World();
  w.addNode('n1', 4);
});
afterEach(() => w.close());

function snapshot(usageByUser?: Record<string, number>) {
  return buildSnapshot({
    store: w.store, isConnected: (id) => w.agents.isConnected(id), latestGpus: () => undefined, ...(usageByUser ? { usageByUser } : {}),
  });
}

/** A session of `user` that succeeded after running `ms` from its placement. */
function finished(over: Partial<NewSession>, ms: number, endedMs: number): void {
  const s = w.submit(over);
  w.store.updateSession(s.name, { state: 'succeeded', placedMs: endedMs - ms, startedMs: endedMs - ms, endedMs });
}

describe('buildSnapshot', () => {
  it('fills a queued session from the store: priority, submission, queue time, attained service, declared time', () => {
    w.clock.ms = 2_000;
    const s = w.submit({ priority: 7, timeLimitS: 90, gpus: 2 });
    w.store.updateSession(s.name, { queuedMs: 9_000, attainedGpuMs: 12_345 });
    const p = snapshot().pending[0]!;
    expect(p).toMatchObject({
      id: s.name, user: 'alice', gpus: 2, priority: 7, submittedAtMs: 2_000, queuedAtMs: 9_000, attainedGpuMs: 12_345,
      expectedDurationMs: 90_000, expectedDurationSource: 'declared',
    });
  });

  it('learns a run time from two succeeded sessions of the same user, dataset and entry (the longest of the recent ones)', () => {
    finished({}, 60_000, 100_000);
    finished({}, 80_000, 200_000);
    finished({ entry: 'other.py' }, 999_000, 300_000);
    finished({ user: 'bob' }, 999_000, 300_000);
    const s = w.submit();
    const bob = w.submit({ user: 'bob' });
    const pending = snapshot().pending;
    expect(pending.find((p) => p.id === s.name)).toMatchObject({ expectedDurationMs: 80_000, expectedDurationSource: 'learned' });
    expect(pending.find((p) => p.id === bob.name)!.expectedDurationMs).toBeUndefined();
  });

  it('leaves the run time unknown with one earlier success', () => {
    finished({}, 60_000, 100_000);
    w.submit();
    expect(snapshot().pending[0]!.expectedDurationMs).toBeUndefined();
  });

  it('fills a running session: run start at placement, queue times, last checkpoint of this run, stopping', () => {
    w.clock.ms = 1_000;
    const s = w.submit({ gpus: 2, priority: 3 });
    w.store.updateSession(s.name, { queuedMs: 4_000, attainedGpuMs: 500 });
    w.clock.ms = 10_000;
    w.lifecycle.applyPlan({ placements: [{ sessionId: s.name, assignments: [{ nodeId: 'n1', gpuIndices: [0, 1], rank: 0 }] }], preemptions: [], waiting: [] }, 10_000);
    let r = snapshot().running[0]!;
    expect(r).toMatchObject({
      id: s.name, priority: 3, startedAtMs: 10_000, submittedAtMs: 1_000, queuedAtMs: 4_000, attainedGpuMs: 500, stopping: false,
      assignments: [{ nodeId: 'n1', gpuIndices: [0, 1], rank: 0 }],
    });
    expect(r.lastCheckpointAtMs).toBeUndefined();

    const put = (name: string, createdMs: number) =>
      w.store.checkpoints.put({ session: s.name, name, epoch: 1, manifest: 'a'.repeat(64), files: 0, bytes: 0, summary: {}, source: 'sdk', createdMs });
    put('before', 9_000);
    expect(snapshot().running[0]!.lastCheckpointAtMs).toBeUndefined();
    put('during', 15_000);
    expect(snapshot().running[0]!.lastCheckpointAtMs).toBe(15_000);

    w.store.updateSession(s.name, { stopRequestedMs: 20_000 });
    r = snapshot().running[0]!;
    expect(r.stopping).toBe(true);
  });

  it('passes the decayed usage per user through, and leaves it out when none is given', () => {
    w.submit();
    expect(snapshot({ alice: 36 }).usageByUser).toEqual({ alice: 36 });
    expect(snapshot().usageByUser).toBeUndefined();
  });

  it('gives each node what it offers (Python versions as tags, a container runtime) and each queued session what it needs', () => {
    const inventory = w.store.getNode('n1')!.inventory;
    w.store.upsertNode('n1', { ...inventory, pythons: ['3.10.12', '3.11.7'], containerRuntime: 'podman' }, w.clock.now());
    const py = w.submit({ runtime: { python: '3.11', image: '', shmSizeMib: 0 } });
    const image = w.submit({ runtime: { python: '', image: 'docker.io/library/python:3.11', shmSizeMib: 0 } });
    const plain = w.submit();
    const snap = snapshot();
    expect(snap.nodes[0]!.offers).toEqual(['python3', 'python3.10', 'python3.10.12', 'python3.11', 'python3.11.7', 'containers']);
    const needs = new Map(snap.pending.map((p) => [p.id, p.needs]));
    expect([needs.get(py.name), needs.get(image.name), needs.get(plain.name)]).toEqual([['python3.11'], ['containers'], undefined]);
  });

  it('marks a node not schedulable while draining or disconnected, and leaves out nodes that are down', () => {
    w.addNode('n2', 2);
    w.addNode('n3', 2);
    w.store.updateNode('n1', { draining: true });
    w.agents.detach(w.links.get('n2')!);
    w.store.updateNode('n3', { state: 'down' });
    expect(snapshot().nodes.map((n) => [n.id, n.schedulable])).toEqual([['n1', false], ['n2', false]]);
  });
});

import { describe, expect, it } from 'vitest';
import { openStore } from './sqlite-store.js';
import type { NewSession } from './types.js';

const session = (workspace: string): NewSession => ({
  user: 'alice', dataset: 'scratch', gpus: 0, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [],
  env: {}, memo: '', workspace, priority: 0, timeLimitS: 0,
});
const h = (c: string) => c.repeat(64);

describe('removing a session and the blob roots', () => {
  it('deletes the session, its logs and checkpoints in one go; its manifests stop being roots', () => {
    const store = openStore(':memory:');
    const a = store.insertSession(session(h('a')), 1000, '');
    const b = store.insertSession(session(h('b')), 1001, '');
    store.insertLogs(a.name, 1, 0, [{ seq: 1, tsMs: 1, stream: 'stdout', text: 'x' }, { seq: 2, tsMs: 2, stream: 'stdout', text: 'y' }]);
    store.insertLogs(b.name, 1, 0, [{ seq: 1, tsMs: 1, stream: 'stdout', text: 'z' }]);
    const ckpt = { epoch: 1, files: 1, bytes: 1, summary: {}, source: 'sdk' as const, createdMs: 5 };
    store.checkpoints.put({ session: a.name, name: 'best', manifest: h('c'), ...ckpt });
    store.checkpoints.put({ session: b.name, name: 'best', manifest: h('d'), ...ckpt });
    store.datasets.appendVersion({ name: 'mnist', manifest: h('e'), files: 1, bytes: 1, description: '', pushedBy: 'alice', createdMs: 1 });
    expect(store.blobRoots().map((r) => r.manifest).sort()).toEqual([h('a'), h('b'), h('c'), h('d'), h('e')]);
    expect(store.blobRoots().find((r) => r.manifest === h('c'))?.owner).toBe(`checkpoint ${a.name}/best`);

    expect(store.removeSession(a.name)).toEqual({ logLines: 2, metricPoints: 0, checkpoints: 1 });
    expect(store.getSession(a.name)).toBeUndefined();
    expect(store.readLogs(a.name, 0, -1, 100)).toEqual([]);
    expect(store.events(a.name)).toEqual([]);
    expect(store.blobRoots().map((r) => r.manifest).sort()).toEqual([h('b'), h('d'), h('e')]);
    expect(store.readLogs(b.name, 0, -1, 100)).toHaveLength(1);
    expect(store.removeSession(a.name)).toEqual({ logLines: 0, metricPoints: 0, checkpoints: 0 });
    store.close();
  });
});

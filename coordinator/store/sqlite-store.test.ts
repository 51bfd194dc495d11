import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './sqlite-store.js';
import type { NewSession, Store } from './types.js';

let dir: string;
let path: string;
let store: Store;

const session = (over: Partial<NewSession> = {}): NewSession => ({
  user: 'alice', dataset: 'mnist', gpus: 1, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: ['-x'],
  env: { A: '1' }, memo: 'm', workspace: 'f'.repeat(64), priority: 0, timeLimitS: 0, ...over,
});

const inventory = { hostname: 'h', os: '', cpus: 4, memoryMib: 100, diskFreeMib: 0, gpus: [], agentVersion: '', address: '', gpuProbeError: '', labels: {}, isolation: '', pythons: [], containerRuntime: '' };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-store-'));
  path = join(dir, 'state.sqlite');
  store = openStore(path);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite store', () => {
  it('names sessions per user and dataset and records the queued event', () => {
    const a = store.insertSession(session(), 1000, 'waiting');
    const b = store.insertSession(session(), 1001, 'waiting');
    const c = store.insertSession(session({ user: 'bob' }), 1002, 'waiting');
    expect([a.name, b.name, c.name]).toEqual(['alice/mnist/1', 'alice/mnist/2', 'bob/mnist/1']);
    expect(a).toMatchObject({ state: 'queued', reason: 'waiting', args: ['-x'], env: { A: '1' }, createdMs: 1000, epoch: 0 });
    expect(store.events(a.name)).toEqual([{ tsMs: 1000, state: 'queued', reason: 'waiting' }]);
  });

  it('gives the same state after reopening', () => {
    const s = store.insertSession(session(), 1000, 'waiting');
    store.transaction(() => {
      store.updateSession(s.name, { state: 'scheduled', epoch: 1, masterPort: 29500, reason: 'placed' });
      store.addEvent(s.name, 1100, 'scheduled', 'placed');
      store.insertAssignments([{ session: s.name, epoch: 1, nodeId: 'n1', rank: 0, gpuIndices: [0, 3], state: 'pending', exitCode: undefined, signal: '', message: '' }]);
    });
    store.upsertNode('n1', inventory, 900);
    store.updateNode('n1', { draining: true, reason: 'maintenance' });
    store.insertLogs(s.name, 1, 0, [{ seq: 1, tsMs: 1, stream: 'stdout', text: 'hi' }]);
    store.updateRank(s.name, 1, 0, { state: 'exited', exitCode: 0 });
    store.close();
    store = openStore(path);
    expect(store.getSession(s.name)).toMatchObject({ state: 'scheduled', epoch: 1, masterPort: 29500 });
    expect(store.events(s.name).map((e) => e.state)).toEqual(['queued', 'scheduled']);
    expect(store.assignments(s.name, 1)).toEqual([{ session: s.name, epoch: 1, nodeId: 'n1', rank: 0, gpuIndices: [0, 3], state: 'exited', exitCode: 0, signal: '', message: '' }]);
    expect(store.getNode('n1')).toMatchObject({ draining: true, reason: 'maintenance', state: 'ready' });
    expect(store.readLogs(s.name, 0, -1, 10).map((l) => l.text)).toEqual(['hi']);
    expect(store.insertSession(session(), 2000, '').name).toBe('alice/mnist/2');
  });

  it('rolls back a failed transaction entirely', () => {
    const s = store.insertSession(session(), 1000, '');
    expect(() => store.transaction(() => {
      store.updateSession(s.name, { state: 'running' });
      store.addEvent(s.name, 1, 'running', '');
      throw new Error('boom');
    })).toThrow('boom');
    expect(store.getSession(s.name)!.state).toBe('queued');
    expect(store.events(s.name)).toHaveLength(1);
  });

  it('stores log lines idempotently and acks the gapless high-water seq', () => {
    const s = store.insertSession(session(), 1000, '');
    const line = (seq: number) => ({ seq, tsMs: seq, stream: 'stdout', text: `l${seq}` });
    expect(store.insertLogs(s.name, 1, 0, [line(1), line(2)]).ackSeq).toBe(2);
    const r = store.insertLogs(s.name, 1, 0, [line(2), line(4)]);
    expect(r.inserted.map((l) => l.seq)).toEqual([4]);
    expect(r.ackSeq).toBe(2);
    expect(store.insertLogs(s.name, 1, 0, [line(3)]).ackSeq).toBe(4);
    const all = store.readLogs(s.name, 0, -1, 100);
    expect(all.map((l) => l.seq)).toEqual([1, 2, 4, 3]);
    expect(all.every((l, i) => i === 0 || l.cursor > all[i - 1]!.cursor)).toBe(true);
    expect(store.readLogs(s.name, all[1]!.cursor, 0, 100).map((l) => l.seq)).toEqual([4, 3]);
    expect(store.readLogs(s.name, 0, 1, 100)).toEqual([]);
  });

  it('lists log acks of ranks on a node that have not exited', () => {
    const s = store.insertSession(session(), 1000, '');
    store.updateSession(s.name, { state: 'running', epoch: 1 });
    store.insertAssignments([
      { session: s.name, epoch: 1, nodeId: 'n1', rank: 0, gpuIndices: [0], state: 'running', exitCode: undefined, signal: '', message: '' },
      { session: s.name, epoch: 1, nodeId: 'n2', rank: 1, gpuIndices: [0], state: 'running', exitCode: undefined, signal: '', message: '' },
    ]);
    store.insertLogs(s.name, 1, 0, [{ seq: 1, tsMs: 0, stream: 'stdout', text: '' }]);
    expect(store.logAcksForNode('n1', 0)).toEqual([{ session: s.name, rank: 0, seq: 1 }]);
    expect(store.logAcksForNode('n2', 0)).toEqual([{ session: s.name, rank: 1, seq: 0 }]);
    store.updateRank(s.name, 1, 0, { state: 'exited', exitCode: 0 });
    expect(store.logAcksForNode('n1', 0)).toEqual([]);
  });

  it('lists active assignments of the current epoch only', () => {
    const s = store.insertSession(session(), 1000, '');
    const row = { session: s.name, nodeId: 'n1', rank: 0, gpuIndices: [0], state: 'pending' as const, exitCode: undefined, signal: '', message: '' };
    store.insertAssignments([{ ...row, epoch: 1 }, { ...row, epoch: 2, gpuIndices: [1] }]);
    store.updateSession(s.name, { state: 'running', epoch: 2 });
    expect(store.activeAssignments().map((a) => a.gpuIndices)).toEqual([[1]]);
    store.updateSession(s.name, { state: 'failed' });
    expect(store.activeAssignments()).toEqual([]);
  });
});

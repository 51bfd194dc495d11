import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { NewSession, Store } from '../store/types.js';
import { applyPlan } from './apply-plan.js';

let store: Store;
const base: NewSession = {
  user: 'alice', dataset: 'scratch', gpus: 1, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [], env: {},
  memo: '', workspace: 'f'.repeat(64), priority: 0, timeLimitS: 0,
};
const gpu = (index: number) => ({ index, uuid: '', name: '', memoryTotalMib: 0, mig: '', health: 'ok', healthReason: '', processes: [] });

beforeEach(() => {
  store = openStore(':memory:');
  store.upsertNode('n1', { hostname: '', os: '', cpus: 4, memoryMib: 0, diskFreeMib: 0, gpus: [gpu(0), gpu(1)], agentVersion: '', address: '', gpuProbeError: '', labels: {} }, 0);
});
afterEach(() => store.close());

const place = (sessionId: string, gpuIndices: number[], nodeId = 'n1') => ({ sessionId, assignments: [{ nodeId, gpuIndices, rank: 0 }] });

describe('applyPlan', () => {
  it('places, bumps the epoch, records the event and picks distinct master ports', () => {
    const a = store.insertSession(base, 0, '');
    const b = store.insertSession(base, 0, '');
    const out = applyPlan(store, { placements: [place(a.name, [0]), place(b.name, [1])], preemptions: [], waiting: [] }, 10);
    expect(out.placed).toEqual([a.name, b.name]);
    const sa = store.getSession(a.name)!;
    const sb = store.getSession(b.name)!;
    expect(sa).toMatchObject({ state: 'scheduled', epoch: 1 });
    expect(sa.masterPort).not.toBe(sb.masterPort);
    expect(store.events(a.name).map((e) => e.state)).toEqual(['queued', 'scheduled']);
    expect(store.assignments(a.name, 1)[0]).toMatchObject({ nodeId: 'n1', gpuIndices: [0], state: 'pending' });
  });

  it.each([
    ['a GPU taken in the same plan', (a: string, b: string) => [place(a, [0]), place(b, [0])], 'already taken'],
    ['an unknown node', (a: string, b: string) => [place(a, [0]), place(b, [1], 'nx')], 'not up'],
    ['a GPU the node lacks', (a: string, b: string) => [place(a, [0]), place(b, [7])], 'no GPU 7'],
  ])('rejects %s and keeps the rest', (_what, plan, why) => {
    const a = store.insertSession(base, 0, '');
    const b = store.insertSession(base, 0, '');
    const out = applyPlan(store, { placements: plan(a.name, b.name), preemptions: [], waiting: [] }, 10);
    expect(out.placed).toEqual([a.name]);
    expect(out.rejected[0]!.why).toContain(why);
    expect(store.getSession(b.name)!.state).toBe('queued');
  });

  it('rejects a session that is no longer queued and stores wait reasons', () => {
    const a = store.insertSession(base, 0, '');
    const b = store.insertSession(base, 0, '');
    store.updateSession(a.name, { state: 'stopped' });
    const out = applyPlan(store, { placements: [place(a.name, [0])], preemptions: [], waiting: [{ sessionId: b.name, kind: 'resources', message: 'needs 1 GPUs; 0 free' }] }, 10);
    expect(out.rejected[0]!.why).toContain('no longer queued');
    expect(store.getSession(b.name)!.reason).toBe('needs 1 GPUs; 0 free');
  });
});

import { describe, expect, it } from 'vitest';
import { Capacity } from './capacity.js';
import { nodes, run } from './test-fixtures/harness.js';

const one = (perNode: number, processes = 1) => ({ processes, perNode, cpus: 1, memoryMib: 0 });

describe('Capacity', () => {
  it('best fit picks the fullest node that still fits, ties to the lowest index', () => {
    const cap = Capacity.of(nodes(3), [run('a', { n0: [0, 1, 2, 3] }), run('b', { n1: [0, 1, 2, 3, 4, 5] }), run('c', { n2: [0, 1, 2, 3] })]);
    expect(cap.place(one(2))?.map((a) => a.nodeId)).toEqual(['n1']);
    expect(cap.place(one(3))?.map((a) => a.nodeId)).toEqual(['n0']);
    expect(cap.place(one(4))?.map((a) => a.nodeId)).toEqual(['n2']);
    expect(cap.place(one(1))?.[0]).toEqual({ nodeId: 'n0', gpuIndices: [7], rank: 0 });
  });

  it('places a multi-node gang on whole free nodes, lowest index first, all or nothing', () => {
    const cap = Capacity.of(nodes(4), [run('a', { n1: [0] })]);
    expect(cap.place(one(8, 2))?.map((a) => [a.nodeId, a.rank])).toEqual([['n0', 0], ['n2', 1]]);
    expect(cap.place(one(8, 2))).toBeUndefined();
    expect(cap.freeTotal()).toBe(8 + 7);
  });

  it('never hands out a quarantined GPU or a GPU held twice', () => {
    const cap = Capacity.of(nodes(1, 4, { unusableGpus: [1] }), [run('a', { n0: [0] })]);
    expect(cap.place(one(2))?.[0]!.gpuIndices).toEqual([2, 3]);
    expect(cap.place(one(1))).toBeUndefined();
    cap.release({ assignments: [{ nodeId: 'n0', gpuIndices: [0, 1], rank: 0 }], cpus: 0, memoryMib: 0 });
    expect(cap.split()).toEqual([{ nodeId: 'n0', free: 1 }]);
  });

  it('skips draining nodes and nodes without the CPUs', () => {
    const ns = nodes(3);
    ns[0]!.schedulable = false;
    ns[1]!.cpus = 2;
    const cap = Capacity.of(ns, [run('a', { n1: [0] }, { cpus: 1 })]);
    expect(cap.place({ processes: 1, perNode: 1, cpus: 2, memoryMib: 0 })?.[0]!.nodeId).toBe('n2');
    expect(cap.largestBlock()).toBe(7);
  });

  it('a mask keeps nodes out', () => {
    const cap = Capacity.of(nodes(2), []);
    expect(cap.fit(one(8), Uint8Array.from([1, 0]))).toEqual([1]);
    expect(cap.fit(one(8), Uint8Array.from([1, 1]))).toBeUndefined();
  });
});

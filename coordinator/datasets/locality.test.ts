import { describe, expect, it } from 'vitest';
import { decideDefault, decideFirstFit } from '../scheduler/index.js';
import type { NodeView, PendingSession, Snapshot } from '../scheduler/types.js';

const node = (id: string, gpus: number, datasets?: string[]): NodeView => ({
  id, gpus: Array.from({ length: gpus }, (_, i) => i), unusableGpus: [], cpus: 16, memoryMib: 0, schedulable: true, ...(datasets ? { datasets } : {}),
});

const pending = (gpus: number, datasets?: string[]): PendingSession => ({
  id: 'alice/mnist/1', user: 'alice', gpus, gpusPerNode: 0, cpus: 1, memoryMib: 0, priority: 0, submittedAtMs: 0, ...(datasets ? { datasets } : {}),
});

function placedOn(decide: typeof decideDefault, snapshot: Snapshot): string[] {
  const plan = decide(snapshot, 1_000);
  return plan.placements.flatMap((p) => p.assignments.map((a) => a.nodeId));
}

describe('dataset locality in placement', () => {
  it.each([
    ['default', decideDefault],
    ['first-fit', decideFirstFit],
  ])('%s: among equal nodes, prefers the one that holds the pinned version', (_name, decide) => {
    const nodes = [node('n1', 4), node('n2', 4, ['cifar@1', 'mnist@2']), node('n3', 4)];
    expect(placedOn(decide, { nodes, pending: [pending(2, ['mnist@2'])], running: [] })).toEqual(['n2']);
    expect(placedOn(decide, { nodes, pending: [pending(0, ['mnist@2'])], running: [] })).toEqual(['n2']);
    expect(placedOn(decide, { nodes, pending: [pending(2, ['mnist@1'])], running: [] })).toEqual(['n1']);
    expect(placedOn(decide, { nodes, pending: [pending(2)], running: [] })).toEqual(['n1']);
  });

  it('does not trade a better fit for locality', () => {
    const nodes = [node('small', 2), node('big', 8, ['mnist@2'])];
    expect(placedOn(decideDefault, { nodes, pending: [pending(2, ['mnist@2'])], running: [] })).toEqual(['small']);
  });
});

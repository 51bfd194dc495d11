import { describe, expect, it } from 'vitest';
import { checkPlan } from './plan-check.js';
import { nodes, pend, run, snapshot } from './test-fixtures/harness.js';
import type { Plan } from './types.js';

const s = () => {
  const ns = nodes(2, 4);
  ns[1]!.unusableGpus = [3];
  return snapshot({ nodes: ns, running: [run('r', { n0: [0] })], pending: [pend('a', 2), pend('b', 4), pend('c', 1, { gpusPerNode: 1 })] });
};
const plan = (placements: Plan['placements'], preemptions: Plan['preemptions'] = []): Plan => ({ placements, preemptions, waiting: [] });
const at = (nodeId: string, gpuIndices: number[], rank = 0) => ({ nodeId, gpuIndices, rank });

describe('checkPlan', () => {
  it.each([
    { name: 'a sound plan', plan: plan([{ sessionId: 'a', assignments: [at('n0', [1, 2])] }]), problems: [] },
    { name: 'a GPU booked twice', plan: plan([{ sessionId: 'a', assignments: [at('n0', [0, 1])] }]), problems: [/GPU 0 of n0 is booked by both r and a/] },
    { name: 'a partial gang', plan: plan([{ sessionId: 'b', assignments: [at('n0', [1, 2, 3])] }]), problems: [/b asks for 4 GPUs; placed 3/] },
    { name: 'unequal parts', plan: plan([{ sessionId: 'b', assignments: [at('n0', [1, 2, 3]), at('n1', [0], 1)] }]), problems: [/b asks for 4 GPUs; placed 3\+1/] },
    { name: 'a quarantined GPU', plan: plan([{ sessionId: 'a', assignments: [at('n1', [2, 3])] }]), problems: [/quarantined GPU 3 of n1/] },
    { name: 'a GPU the node lacks', plan: plan([{ sessionId: 'a', assignments: [at('n1', [7, 0])] }]), problems: [/GPU 7 that n1 does not have/] },
    { name: 'an unknown session', plan: plan([{ sessionId: 'zz', assignments: [at('n1', [0])] }]), problems: [/zz is placed but is not pending/] },
    { name: 'an explicit GPUs-per-node request met', plan: plan([{ sessionId: 'c', assignments: [at('n1', [0])] }]), problems: [] },
    { name: 'a preemption of nothing running', plan: plan([], [{ sessionId: 'a', forSessionId: 'b', reason: 'x' }]), problems: [/a is preempted but is not running/] },
  ])('$name', ({ plan: p, problems }) => {
    const found = checkPlan(s(), p);
    expect(found).toHaveLength(problems.length);
    problems.forEach((re, i) => expect(found[i]).toMatch(re));
  });

  it('flags two processes of one gang on the same node and an unschedulable node', () => {
    const snap = s();
    snap.nodes[1]!.schedulable = false;
    const found = checkPlan(snap, plan([{ sessionId: 'a', assignments: [at('n1', [0]), at('n1', [1], 1)] }]));
    expect(found.join('\n')).toMatch(/two processes on one node/);
    expect(found.join('\n')).toMatch(/unschedulable node n1/);
  });
});

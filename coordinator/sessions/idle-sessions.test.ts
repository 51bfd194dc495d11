import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyIdleReport } from './idle-sessions.js';
import { World } from './test-fixtures/world.js';

let w: World;

beforeEach(() => {
  w = new World();
  w.addNode('n1', 2);
  w.addNode('n2', 2);
});
afterEach(() => w.close());

/** A running session with one rank on each of `nodes`. */
function running(nodes: string[]): string {
  const s = w.submit({ gpus: nodes.length });
  w.store.updateSession(s.name, { state: 'running', epoch: 1 });
  w.store.insertAssignments(nodes.map((nodeId, rank) => ({ session: s.name, epoch: 1, nodeId, rank, gpuIndices: [0], state: 'running' as const, exitCode: undefined, signal: '', message: '' })));
  return s.name;
}

describe('applyIdleReport', () => {
  it('sets and clears the idle flag of a one-node session and keeps it per node', () => {
    const a = running(['n1']);
    const b = running(['n2']);
    applyIdleReport(w, 'n1', [a]);
    expect(w.get(a).idle).toBe(true);
    expect(w.get(b).idle).toBe(false);
    expect(w.agents.idleSessions('n1')).toEqual([a]);
    applyIdleReport(w, 'n1', []);
    expect(w.get(a).idle).toBe(false);
  });

  it.each([
    ['only one node reports it', [['n1', true]], false],
    ['every node reports it', [['n1', true], ['n2', true]], true],
    ['one node stops reporting it', [['n1', true], ['n2', true], ['n2', false]], false],
  ] as const)('a two-node gang is idle only when every node reports it: %s', (_name, reports, idle) => {
    const g = running(['n1', 'n2']);
    for (const [node, reported] of reports) applyIdleReport(w, node, reported ? [g] : []);
    expect(w.get(g).idle).toBe(idle);
  });

  it('ignores names of sessions that are not placed on the node, and stores the flag', () => {
    const a = running(['n2']);
    applyIdleReport(w, 'n1', [a, 'bob/x/9']);
    expect(w.get(a).idle).toBe(false);
    applyIdleReport(w, 'n2', [a]);
    expect(w.store.getSession(a)).toMatchObject({ idle: true, state: 'running' });
  });
});

import { describe, expect, it } from 'vitest';
import { admissible } from './gang-fit.js';
import { decideBackfill, decideDefault, explainWait, policies } from './index.js';
import { maskWith, needsKey, needsOf } from './node-needs.js';
import { checkPlan } from './plan-check.js';
import { nodes, pend, placedOn, reasonOf, run, snapshot } from './test-fixtures/harness.js';
import type { NodeView } from './types.js';

const HOUR = 3_600_000;
const PY311 = ['python3', 'python3.11', 'python3.11.7'];

/** Nodes n0… of `gpus` GPUs each, offering what `offers[i]` lists (undefined: nothing). */
function cluster(offers: (string[] | undefined)[], gpus = 8, extra: Partial<NodeView> = {}): NodeView[] {
  return nodes(offers.length, gpus, extra).map((n, i) => (offers[i] ? { ...n, offers: offers[i] } : n));
}

describe.each(Object.keys(policies))('%s: a session runs only where its needs are offered', (name) => {
  const decide = policies[name]!;

  it('skips the best-fit node when it lacks the Python asked for; a session without needs still takes it', () => {
    const s = snapshot({
      nodes: cluster([undefined, PY311]),
      running: [run('r', { n0: [0, 1, 2, 3, 4, 5] })],
      pending: [pend('needy', 1, { needs: ['python3.11'] }), pend('plain', 1)],
    });
    const plan = decide(s, 0);
    expect(checkPlan(s, plan)).toEqual([]);
    expect(placedOn(plan, 'needy')).toEqual(['n1']);
    expect(placedOn(plan, 'plain')).toEqual(['n0']);
  });

  it('places every process of a gang on offering nodes', () => {
    const s = snapshot({ nodes: cluster([PY311, undefined, PY311]), pending: [pend('gang', 16, { needs: ['python3.11'] })] });
    expect(placedOn(decide(s, 0), 'gang')).toEqual(['n0', 'n2']);
  });

  it('cuts a large request into the largest offering node, not the largest node', () => {
    const ns = [...cluster([undefined], 8), ...cluster([PY311, PY311], 4).map((n, i) => ({ ...n, id: `small${i}` }))];
    const plan = decide(snapshot({ nodes: ns, pending: [pend('eight', 8, { needs: ['python3.11'] })] }), 0);
    expect(plan.placements[0]!.assignments.map((a) => [a.nodeId, a.gpuIndices.length])).toEqual([['small0', 4], ['small1', 4]]);
  });

  it.each([
    { why: 'no node offers it', offers: [undefined, ['containers']], needs: ['python3.11'], message: 'can never fit: no node offers python3.11' },
    { why: 'no node offers both', offers: [PY311, ['containers']], needs: ['python3.11', 'containers'], message: 'can never fit: no node offers containers and python3.11 together' },
    { why: 'too few offering nodes', offers: [PY311, undefined], needs: ['python3.11'], gpus: 16, message: 'can never fit: 2 node(s) with 8 GPUs each are needed; the cluster has 1, counting only the nodes that offer python3.11; the largest request that fits is 8 GPUs' },
  ])('says a session can never fit when $why', ({ offers, needs, gpus, message }) => {
    const plan = decide(snapshot({ nodes: cluster(offers), pending: [pend('p', gpus ?? 1, { needs })] }), 0);
    expect(plan.placements).toEqual([]);
    expect(reasonOf(plan, 'p')).toMatchObject({ kind: 'no-fit', message });
  });
});

describe('wait reasons of sessions with needs', () => {
  it('an offering node that is draining makes it wait, not fail', () => {
    const ns = cluster([undefined, PY311]);
    ns[1]!.schedulable = false;
    const plan = decideDefault(snapshot({ nodes: ns, pending: [pend('p', 1, { needs: ['python3.11'] })] }), 0);
    expect(reasonOf(plan, 'p')).toMatchObject({ kind: 'resources', message: 'needs 1 GPU on one node offering python3.11; only nodes that are draining or disconnected could hold it' });
  });

  it('counts free GPUs only on offering nodes, and `queue why` says what it needs', () => {
    const s = snapshot({ nodes: cluster([undefined, PY311]), running: [run('r', { n1: [0, 1, 2, 3, 4, 5, 6, 7] })], pending: [pend('p', 2, { needs: ['python3.11'] })] });
    const entry = explainWait(s, 0, 'p');
    expect(entry.reason).toMatchObject({ kind: 'resources' });
    expect(entry.reason!.message).toMatch(/^needs 2 GPUs on one node offering python3\.11; 0 GPUs free, the rest held by 1 running session/);
  });

  it('treats an empty needs list as none', () => {
    const plan = decideDefault(snapshot({ nodes: cluster([undefined]), pending: [pend('p', 1, { needs: [] })] }), 0);
    expect(placedOn(plan, 'p')).toEqual(['n0']);
  });
});

describe('reservations and preemption honour needs', () => {
  /** n0 offers Python 3.11 and its session ends in 5 h; n1 does not and its session ends in 1 h. */
  const twoBusy = (head: Parameters<typeof pend>[2]) =>
    snapshot({
      nodes: cluster([PY311, undefined]),
      running: [run('slow', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }, { expectedDurationMs: 5 * HOUR }), run('quick', { n1: [0, 1, 2, 3, 4, 5, 6, 7] }, { expectedDurationMs: HOUR })],
      pending: [pend('head', 8, { needs: ['python3.11'], ...head })],
    });

  it('backfill reserves the head on an offering node, even when another frees sooner', () => {
    const plan = decideBackfill(twoBusy({}), 0);
    expect(plan.reservations).toEqual([{ sessionId: 'head', nodeIds: ['n0'], startAtMs: 5 * HOUR }]);
  });

  it('the default policy holds only offering nodes for a starving head', () => {
    const now = 60 * HOUR;
    const s = twoBusy({ submittedAtMs: 0 });
    for (const r of s.running) r.startedAtMs = now - 0.5 * HOUR;
    const plan = decideDefault(s, now);
    expect(plan.preemptions).toEqual([]);
    expect(plan.reservations).toEqual([{ sessionId: 'head', nodeIds: ['n0'], startAtMs: now + 4.5 * HOUR }]);
  });

  it('preempts on offering nodes only, even when a victim elsewhere would lose less', () => {
    const s = snapshot({
      nodes: cluster([undefined, PY311]),
      running: [run('cheap', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }, { lastCheckpointAtMs: 10 * HOUR }), run('costly', { n1: [0, 1, 2, 3, 4, 5, 6, 7] })],
      pending: [pend('urgent', 8, { priority: 1, needs: ['python3.11'], submittedAtMs: 10 * HOUR })],
    });
    const plan = decideDefault(s, 10 * HOUR);
    expect(plan.preemptions.map((p) => p.sessionId)).toEqual(['costly']);
    expect(plan.reservations).toEqual([{ sessionId: 'urgent', nodeIds: ['n1'], preempting: true }]);
  });

  it('preempts nothing when the only offering node cannot be freed', () => {
    const s = snapshot({
      nodes: cluster([undefined, PY311]),
      running: [run('cheap', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }), run('kept', { n1: [0, 1, 2, 3, 4, 5, 6, 7] }, { preemptible: false })],
      pending: [pend('urgent', 8, { priority: 1, needs: ['python3.11'] })],
    });
    expect(decideDefault(s, 10 * HOUR).preemptions).toEqual([]);
  });
});

describe('needs masks', () => {
  const ns = cluster([PY311, undefined, ['containers', ...PY311]]);

  it('keys needs by their sorted, distinct tags', () => {
    expect([needsKey(undefined), needsKey([]), needsKey(['b', 'a', 'b']), needsKey(['python3.11'])]).toEqual(['', '', 'a,b', 'python3.11']);
  });

  it('marks the nodes that lack a tag, and none when every node offers them', () => {
    expect([...needsOf('python3.11', ns, ns).lacks!]).toEqual([0, 1, 0]);
    expect([...needsOf('containers,python3.11', ns, ns).lacks!]).toEqual([1, 1, 0]);
    expect(needsOf('python3', [ns[0]!, ns[2]!], ns).lacks).toBeUndefined();
  });

  it('gives one stable array per base mask, following the base as it grows', () => {
    const needs = needsOf('python3.11', ns, ns);
    const base = new Uint8Array(3);
    const first = maskWith(needs, base)!;
    expect([...first]).toEqual([0, 1, 0]);
    base[2] = 1;
    const again = maskWith(needs, base)!;
    expect(again).toBe(first);
    expect([...again]).toEqual([0, 1, 1]);
    expect(maskWith(needs, undefined)).toBe(needs.lacks);
    expect(maskWith(undefined, base)).toBe(base);
  });

  it('admissible() judges a request with needs on the offering nodes only', () => {
    expect(admissible({ gpus: 8, gpusPerNode: 0, cpus: 1, needs: ['containers'] }, ns).ok).toBe(true);
    expect(admissible({ gpus: 16, gpusPerNode: 0, cpus: 1, needs: ['containers'] }, ns)).toMatchObject({ ok: false, largest: 8 });
    expect(admissible({ gpus: 1, gpusPerNode: 0, cpus: 1, needs: ['python3.12'] }, ns)).toEqual({ ok: false, largest: 0, why: 'no node offers python3.12' });
  });
});

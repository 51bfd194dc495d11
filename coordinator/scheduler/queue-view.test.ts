import { describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import { decideBackfill, decideDefault, explainWait, queueView } from './index.js';
import { nodes, pend, run, snapshot } from './test-fixtures/harness.js';
import type { Decide, Snapshot, WaitReason } from './types.js';

const HOUR = 3_600_000;
const NOW = 200 * HOUR;
const at = (extra: Parameters<typeof pend>[2] = {}) => ({ submittedAtMs: NOW - 60_000, ...extra });

interface Case {
  name: string;
  snapshot: Snapshot;
  session: string;
  decide?: Decide;
  kind: WaitReason['kind'];
  message: RegExp;
  blockedBy?: string;
}

const cases: Case[] = [
  {
    name: 'fragmentation: enough GPUs free, but not on one node',
    snapshot: snapshot({ nodes: nodes(2), running: [run('r0', { n0: [0, 1, 2, 3, 4] }, { priority: 9 }), run('r1', { n1: [0, 1, 2, 3, 4] }, { priority: 9 })], pending: [pend('s', 4, at())] }),
    session: 's',
    kind: 'fragmentation',
    message: /needs 4 GPUs on one node; 6 GPUs are free but split as 3 on n0, 3 on n1/,
  },
  {
    name: 'priority: sessions of higher priority are ahead',
    snapshot: snapshot({ nodes: nodes(1), running: [run('r', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }, { priority: 9 })], pending: [pend('low', 8, at()), pend('high', 8, at({ priority: 1 }))] }),
    session: 'low',
    kind: 'priority',
    message: /needs 8 GPUs on one node; 0 free; 1 session\(s\) of higher priority are ahead of it/,
  },
  {
    name: 'fair share: its user used more than its share lately',
    snapshot: snapshot({ nodes: nodes(1, 1), running: [run('r', { n0: [0] }, { priority: 9 })], pending: [pend('mine', 1, at({ user: 'alice' })), pend('theirs', 1, at({ user: 'bob' }))], usageByUser: { alice: 9 * 3600, bob: 3600 } }),
    session: 'mine',
    kind: 'fair-share',
    message: /alice used 9\.0 GPU-h recently \(decayed\), 1\.8× its share, so sessions of users who used less go first/,
  },
  {
    name: 'reservation: the free GPUs are held for the head (backfill)',
    snapshot: snapshot({ nodes: nodes(1), running: [run('r', { n0: [0, 1, 2, 3, 4, 5] }, { expectedDurationMs: 2 * HOUR, startedAtMs: NOW - HOUR })], pending: [pend('head', 4, at()), pend('s', 1, at({ expectedDurationMs: 3 * HOUR }))] }),
    session: 's',
    decide: decideBackfill,
    kind: 'reservation',
    blockedBy: 'head',
    message: /declared run time of 3h 00m would run past the start reserved for the head head \(in 1h 00m\)/,
  },
  {
    name: 'quarantine: no node has enough usable GPUs until they are back',
    snapshot: snapshot({ nodes: nodes(1, 8, { unusableGpus: [3] }), pending: [pend('s', 8, at())] }),
    session: 's',
    kind: 'quarantine',
    message: /needs 8 GPUs on one node; quarantined GPU\(s\): n0 GPU 3; no node has enough usable GPUs until they are back/,
  },
  {
    name: 'quarantine: it would fit now if the GPU were back',
    snapshot: snapshot({ nodes: [...nodes(1, 8), ...nodes(1, 8, { unusableGpus: [0] }).map((n) => ({ ...n, id: 'n1' }))], running: [run('r', { n0: [0] }, { priority: 9 })], pending: [pend('s', 8, at())] }),
    session: 's',
    kind: 'quarantine',
    message: /quarantined GPU\(s\): n1 GPU 0; it would fit now if they were usable/,
  },
  {
    name: 'no-fit: a shape that fits no node shape, naming the largest that does',
    snapshot: snapshot({ nodes: nodes(2), pending: [pend('s', 24, at())] }),
    session: 's',
    kind: 'no-fit',
    message: /can never fit: 3 node\(s\) with 8 GPUs each are needed; the cluster has 2; the largest request that fits is 16 GPUs/,
  },
  {
    name: 'resources: simply not enough GPUs free',
    snapshot: snapshot({ nodes: nodes(1), running: [run('r', { n0: [0, 1, 2, 3, 4, 5, 6, 7] }, { priority: 9, expectedDurationMs: 3 * HOUR, startedAtMs: NOW - HOUR })], pending: [pend('s', 2, at())] }),
    session: 's',
    kind: 'resources',
    message: /needs 2 GPUs on one node; 0 GPUs free, the rest held by 1 running session\(s\); the next expected end is in 2h 00m/,
  },
  {
    name: 'resources: only draining nodes could hold it',
    snapshot: snapshot({ nodes: [...nodes(1, 4), ...nodes(1, 8, { schedulable: false }).map((n) => ({ ...n, id: 'big' }))], pending: [pend('s', 8, at())] }),
    session: 's',
    kind: 'resources',
    message: /only nodes that are draining or disconnected could hold it/,
  },
];

describe('queue why', () => {
  it.each(cases)('$name', ({ snapshot: s, session, decide, kind, message, blockedBy }) => {
    const entry = explainWait(s, NOW, session, decide ?? decideDefault);
    expect(entry.state).toBe('waiting');
    expect(entry.reason?.kind).toBe(kind);
    expect(entry.reason?.message).toMatch(message);
    if (blockedBy) expect(entry.reason?.blockedBy).toBe(blockedBy);
  });

  it('says a session that is not queued is not queued', () => {
    let caught: unknown;
    try {
      explainWait(snapshot({ nodes: nodes(1) }), NOW, 'alice/mnist/3');
    } catch (err) {
      caught = err;
    }
    expect(isNsmlError(caught, 'NSML_E_SESSION_NOT_FOUND')).toBe(true);
    expect((caught as Error).message).toMatch(/alice\/mnist\/3 is not queued/);
  });
});

describe('queue view', () => {
  it('lists the queue in the policy’s order with positions, states and reasons', () => {
    const s = snapshot({ nodes: nodes(1, 2), pending: [pend('a', 1, at()), pend('b', 4, at()), pend('c', 1, at({ priority: 2, expectedDurationMs: HOUR, expectedDurationSource: 'declared' }))] });
    const view = queueView(s, NOW);
    expect(view.map((e) => [e.position, e.sessionId, e.state, e.reason?.kind])).toEqual([
      [1, 'c', 'starting', undefined],
      [2, 'a', 'starting', undefined],
      [3, 'b', 'waiting', 'no-fit'],
    ]);
    expect(view[0]).toMatchObject({ user: 'alice', gpus: 1, priority: 2, queuedMs: 60_000, expectedDurationMs: HOUR, expectedDurationSource: 'declared' });
  });
});

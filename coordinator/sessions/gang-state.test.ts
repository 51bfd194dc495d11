import { describe, expect, it } from 'vitest';
import type { RankState } from '../store/types.js';
import { gangOutcome } from './gang-state.js';

type R = [RankState, number?];
const ranks = (...rs: R[]) => rs.map(([state, exitCode], rank) => ({ rank, state, exitCode, signal: '', message: '' }));

describe('gangOutcome', () => {
  it.each<[string, string, number, R[], string | undefined]>([
    ['all sent → starting', 'scheduled', 0, [['sent'], ['sent']], 'starting'],
    ['one still pending → stays', 'scheduled', 0, [['sent'], ['pending']], undefined],
    ['one running → stays starting', 'starting', 0, [['running'], ['starting']], undefined],
    ['all running → running', 'starting', 0, [['running'], ['running']], 'running'],
    ['running and one exited 0 → running', 'starting', 0, [['running'], ['exited', 0]], 'running'],
    ['all exited 0 → succeeded', 'running', 0, [['exited', 0], ['exited', 0]], 'succeeded'],
    ['one non-zero → failed at once', 'running', 0, [['exited', 1], ['running']], 'failed'],
    ['no exit code (failed to start) → failed', 'starting', 0, [['exited']], 'failed'],
    ['stop requested, one still running → stays', 'running', 5, [['exited', -1], ['running']], undefined],
    ['stop requested, all exited → stopped', 'running', 5, [['exited', -1], ['exited', 0]], 'stopped'],
    ['terminal stays terminal', 'failed', 0, [['exited', 0]], undefined],
  ])('%s', (_what, state, stopRequestedMs, rs, expected) => {
    expect(gangOutcome({ state: state as never, stopRequestedMs }, ranks(...rs))?.state).toBe(expected);
  });

  it.each<[string, R[], string | undefined]>([
    ['one rank still saving → stays', [['exited', -1], ['running']], undefined],
    ['all exited after the stop → preempted', [['exited', -1], ['exited', 0]], 'preempted'],
    ['a rank that failed while stopping → still preempted', [['exited', 1], ['exited', -1]], 'preempted'],
  ])('preemption: %s', (_what, rs, expected) => {
    const out = gangOutcome({ state: 'running', stopRequestedMs: 5, preemptedFor: 'bob/scratch/1' }, ranks(...rs));
    expect(out?.state).toBe(expected);
    if (out) expect(out.reason).toBe('preempted for bob/scratch/1');
  });

  it('asks the other ranks to stop when one fails', () => {
    expect(gangOutcome({ state: 'running', stopRequestedMs: 0 }, ranks(['exited', 2], ['running']))).toMatchObject({
      state: 'failed', exitCode: 2, stopOthers: true, reason: 'rank 0 exited with code 2',
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { QueueEntry__Output } from '../../common/proto/types.js';
import { describeWhy, formatQueueTable, ordinal } from './queue-view.js';

const entry = (over: Partial<QueueEntry__Output> = {}): QueueEntry__Output => ({
  position: 2, session: 'alice/scratch/3', user: 'alice', gpus: 4, gpusPerNode: 0, priority: 0, waitedMs: 200_000,
  state: 'waiting', reasonKind: 'fragmentation', reason: 'needs 4 GPUs on one node; 6 GPUs are free but split as 2 on n1, 2 on n2, 2 on n3',
  blockedBy: '', expectedDurationMs: 0, expectedDurationSource: '', preemptions: 0, ...over,
});

describe('queue view', () => {
  it.each([[1, '1st'], [2, '2nd'], [3, '3rd'], [4, '4th'], [11, '11th'], [12, '12th'], [13, '13th'], [21, '21st'], [102, '102nd']])('ordinal(%i) is %s', (n, text) => {
    expect(ordinal(n)).toBe(text);
  });

  it('explains a waiting session: place, cause, reason, whom it waits for, run time and requeues', () => {
    const text = describeWhy(entry({ reasonKind: 'reservation', blockedBy: 'bob/scratch/1', expectedDurationMs: 7_200_000, expectedDurationSource: 'learned', preemptions: 1 }), 5, 'default');
    expect(text).toContain('alice/scratch/3 is 2nd of 5 in the queue (policy default), waiting 3m20s');
    expect(text).toContain('cause:  reservation');
    expect(text).toContain('behind: bob/scratch/1');
    expect(text).toContain('run time: 2h00m (learned from earlier runs)');
    expect(text).toContain('preempted and requeued 1 time');
  });

  it('says a session that is not queued is not waiting', () => {
    expect(describeWhy(entry({ position: 0, state: 'running', reason: 'the process is running' }), 3, 'default')).toBe('alice/scratch/3 is running, not waiting: the process is running\n');
  });

  it.each([
    ['fair-share', 'fair share'], ['quarantine', 'quarantined GPU'], ['no-fit', 'fits no node shape'], ['priority', 'priority'],
  ])('names the %s cause as %j in the table', (kind, words) => {
    expect(formatQueueTable([entry({ reasonKind: kind })])).toContain(words);
  });

  it('shows a session placed at the next pass as starting', () => {
    const table = formatQueueTable([entry({ state: 'starting', reasonKind: '', reason: '' })]);
    expect(table).toMatch(/starting\s+fits now/);
  });
});

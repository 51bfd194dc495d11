import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { SessionStops, preemptionCheckpointName, type StoppableRank } from './session-stops.js';
import type { RankRecord } from './runner/rank-runner.js';
import { rankKeyString, type RankKey, type RankSpec } from './runner/rank-spec.js';
import type { SaveOutcome } from './session-bridge/session-bridges.js';

/** A rank that records what it was asked, in one shared log. */
class FakeRank implements StoppableRank {
  readonly key: string;
  readonly spec: RankSpec;
  record: RankRecord = { phase: 'running', createdMs: 0 };
  constructor(private readonly log: string[], key: RankKey, public finished = false) {
    this.spec = { ...key } as RankSpec;
    this.key = rankKeyString(key);
  }
  stop(graceMs: number, reason: string): void {
    this.log.push(`stop ${this.spec.rank} ${graceMs} ${reason}`);
    this.record = { ...this.record, stop: { requestedMs: 0, graceMs, reason } };
  }
}

function setup(answer: (key: RankKey) => Promise<SaveOutcome>, elapsedMs = 1_000) {
  const log: string[] = [];
  const ranks: FakeRank[] = [];
  let now = 10_000;
  const stops = new SessionStops({
    ranks: () => ranks,
    askToSave: async (key, name, timeoutMs) => {
      log.push(`save ${key.rank} ${name} within ${timeoutMs}`);
      const outcome = await answer(key);
      now += elapsedMs;
      return outcome;
    },
    logger: silentLogger,
    clock: { now: () => now },
  });
  const add = (rank: number, epoch = 2, finished = false) => {
    const r = new FakeRank(log, { session: 'bob/scratch/4', epoch, rank }, finished);
    ranks.push(r);
    return r;
  };
  return { log, add, stops };
}

const request = { session: 'bob/scratch/4', epoch: 2, graceMs: 10_000, reason: 'preempting for x', checkpoint: true };

describe('SessionStops', () => {
  it.each<[string, SaveOutcome]>([
    ['saved', { outcome: 'saved' }],
    ['failed', { outcome: 'failed', message: 'disk full' }],
    ['timed out', { outcome: 'timed out' }],
    ['no script', { outcome: 'no script' }],
  ])('asks rank 0 to save within half the grace, then stops every rank here with the rest (%s)', async (_label, outcome) => {
    const { log, add, stops } = setup(async () => outcome);
    add(0);
    add(1);
    add(0, 1); // another epoch of the same session: not this stop's
    await stops.stop(request);
    expect(log).toEqual([
      `save 0 ${preemptionCheckpointName(2)} within 5000`,
      'stop 0 9000 preempting for x',
      'stop 1 9000 preempting for x',
    ]);
    expect(preemptionCheckpointName(2)).toBe('preempted-2');
    expect(stops.getStatus().saving).toBe(0);
  });

  it('keeps ranks without rank 0 running for half the grace, without asking them to save', async () => {
    const { log, add, stops } = setup(async () => ({ outcome: 'saved' }));
    add(1);
    add(2);
    await stops.stop({ ...request, graceMs: 40 });
    expect(log).toEqual(['stop 1 40 preempting for x', 'stop 2 40 preempting for x']); // the clock did not move
  });

  it('leaves alone a rank stopped or ended meanwhile, and a repeated stop does not save twice', async () => {
    let release: () => void = () => {};
    const { log, add, stops } = setup(() => new Promise((resolve) => (release = () => resolve({ outcome: 'saved' }))));
    const zero = add(0);
    const one = add(1);
    const first = stops.stop(request);
    await Promise.resolve();
    expect(stops.getStatus().saving).toBe(2);
    await stops.stop(request); // sent again (e.g. after a reconnect): nothing new
    one.stop(0, 'a user stop');
    zero.finished = true;
    release();
    await first;
    expect(log).toEqual(['save 0 preempted-2 within 5000', 'stop 1 0 a user stop']);
  });

  it('a plain stop stops at once; while rank 0 saves, a repeated stop waits for the save, a kill (grace 0) does not', async () => {
    let release: () => void = () => {};
    const { log, add, stops } = setup(() => new Promise((resolve) => (release = () => resolve({ outcome: 'saved' }))));
    add(0);
    add(1);
    add(0, 5);
    const saving = stops.stop(request);
    await Promise.resolve();
    await stops.stop({ ...request, checkpoint: false, reason: 'stop requested' });
    expect(log).toEqual(['save 0 preempted-2 within 5000']);
    await stops.stop({ ...request, epoch: 5, checkpoint: false, graceMs: 3_000, reason: 'asked' }); // not saving: at once
    await stops.stop({ ...request, checkpoint: false, graceMs: 0, reason: 'stale epoch 2' });
    release();
    await saving;
    expect(log).toEqual(['save 0 preempted-2 within 5000', 'stop 0 3000 asked', 'stop 0 0 stale epoch 2', 'stop 1 0 stale epoch 2']);
  });

  it('stops at once when there is no grace to save in, or nothing fresh to stop', async () => {
    const { log, add, stops } = setup(async () => ({ outcome: 'saved' }));
    add(0);
    add(3, 2, true);
    await stops.stop({ ...request, graceMs: 1 });
    expect(log).toEqual(['stop 0 1 preempting for x']);
    await stops.stop(request); // already stopping: stopped again, as a plain stop would
    expect(log.at(-1)).toBe('stop 0 10000 preempting for x');
  });

  it('after close, a pending stop leaves the processes running (the next agent re-adopts them)', async () => {
    let release: () => void = () => {};
    const { log, add, stops } = setup(() => new Promise((resolve) => (release = () => resolve({ outcome: 'timed out' }))));
    add(0);
    const pending = stops.stop(request);
    await Promise.resolve();
    stops.close();
    release();
    await pending;
    expect(log).toEqual(['save 0 preempted-2 within 5000']);
  });
});

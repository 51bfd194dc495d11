import { describe, expect, it } from 'vitest';
import { ErrorCodes, NsmlError } from '../common/errors.js';
import { describeRetry, newRequestId, withSubmitRetry } from './submit-retry.js';

/** A clock that only moves when the retry loop sleeps. */
function fakeTime() {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const unavailable = () => new NsmlError(ErrorCodes.COORDINATOR_UNAVAILABLE, 'cannot reach the coordinator');

describe('withSubmitRetry', () => {
  it('repeats the same attempt while the coordinator is unavailable or late, then returns its answer', async () => {
    const time = fakeTime();
    const failures = [unavailable(), new NsmlError(ErrorCodes.DEADLINE_EXCEEDED, 'late')];
    const told: number[] = [];
    let calls = 0;
    const out = await withSubmitRetry(async () => {
      calls++;
      const f = failures.shift();
      if (f) throw f;
      return 'alice/scratch/1';
    }, { requestId: 'r', ...time, onRetry: (_e, n) => told.push(n) });
    expect(out).toBe('alice/scratch/1');
    expect(calls).toBe(3);
    expect(told).toEqual([1, 2]);
  });

  it('does not repeat a failure the coordinator decided', async () => {
    const time = fakeTime();
    let calls = 0;
    const err = await withSubmitRetry(async () => {
      calls++;
      throw new NsmlError(ErrorCodes.UNSATISFIABLE, 'never fits');
    }, { requestId: 'r', ...time }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NSML_E_UNSATISFIABLE' });
    expect(calls).toBe(1);
  });

  it('gives up within its budget, keeping the code and saying how long it tried', async () => {
    const time = fakeTime();
    const err = await withSubmitRetry(async () => {
      throw unavailable();
    }, { requestId: 'r', budgetMs: 10_000, ...time }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NSML_E_COORDINATOR_UNAVAILABLE', message: expect.stringMatching(/gave up after \d+ attempts in \d+ s/) });
    expect(time.now()).toBeLessThanOrEqual(10_000);
    expect(time.slept.length).toBeGreaterThan(2);
  });

  it('stops at once when aborted', async () => {
    const time = fakeTime();
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expect(withSubmitRetry(async () => {
      calls++;
      throw unavailable();
    }, { requestId: 'r', signal: ac.signal, ...time })).rejects.toMatchObject({ code: 'NSML_E_COORDINATOR_UNAVAILABLE' });
    expect(calls).toBe(1);
  });
});

describe('request ids and messages', () => {
  it('makes 128-bit base64url request ids, each new', () => {
    const ids = new Set(Array.from({ length: 100 }, newRequestId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('says what failed, what it does next and that no duplicate is made', () => {
    const text = describeRetry(unavailable(), 1, 1_500, 'abc');
    expect(text).toContain('NSML_E_COORDINATOR_UNAVAILABLE');
    expect(text).toContain('retrying in 1.5 s with the same request id abc');
    expect(text).toContain('giving up after 30 s');
  });
});

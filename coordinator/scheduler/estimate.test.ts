import { describe, expect, it } from 'vitest';
import { estimateDuration, type PastRun } from './estimate.js';

const past = (durationMs: number, endedAtMs: number, extra: Partial<PastRun> = {}): PastRun => ({ user: 'alice', dataset: 'mnist', entry: 'main.py', state: 'succeeded', durationMs, endedAtMs, ...extra });
const req = { user: 'alice', dataset: 'mnist', entry: 'main.py' };

describe('estimateDuration', () => {
  it.each([
    { name: 'declared wins', declaredMs: 5000, history: [past(9, 1), past(9, 2)], expected: { ms: 5000, source: 'declared' } },
    { name: 'one run is not enough', history: [past(100, 1)], expected: undefined },
    { name: 'the longest of the recent succeeded runs', history: [past(100, 1), past(300, 2), past(200, 3)], expected: { ms: 300, source: 'learned' } },
    { name: 'only the last five count', history: [past(999, 1), ...[2, 3, 4, 5, 6].map((t) => past(10, t))], expected: { ms: 10, source: 'learned' } },
    { name: 'failed runs, other entries, datasets and users do not count', history: [past(100, 1), past(900, 2, { state: 'failed' }), past(900, 3, { entry: 'other.py' }), past(900, 4, { dataset: 'cifar' }), past(900, 5, { user: 'bob' }), past(50, 6)], expected: { ms: 100, source: 'learned' } },
  ])('$name', ({ declaredMs, history, expected }) => {
    expect(estimateDuration({ ...req, ...(declaredMs !== undefined && { declaredMs }) }, history)).toEqual(expected);
  });
});

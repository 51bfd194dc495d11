import { describe, expect, it } from 'vitest';
import { accrueUsage, decayUsage, standings } from './fair-share.js';
import { pend, run } from './test-fixtures/harness.js';

const HOUR = 3_600_000;

describe('decayUsage', () => {
  it.each([
    { previous: 100, elapsedMs: 0, halfLifeMs: HOUR, expected: 100 },
    { previous: 100, elapsedMs: HOUR, halfLifeMs: HOUR, expected: 50 },
    { previous: 100, elapsedMs: 3 * HOUR, halfLifeMs: HOUR, expected: 12.5 },
    { previous: 100, elapsedMs: HOUR / 2, halfLifeMs: HOUR, expected: 100 / Math.SQRT2 },
    { previous: 100, elapsedMs: -5, halfLifeMs: HOUR, expected: 100 },
    { previous: 100, elapsedMs: HOUR, halfLifeMs: 0, expected: 100 },
  ])('$previous after $elapsedMs ms, half-life $halfLifeMs → $expected', ({ previous, elapsedMs, halfLifeMs, expected }) => {
    expect(decayUsage(previous, elapsedMs, halfLifeMs)).toBeCloseTo(expected, 9);
  });
});

describe('accrueUsage', () => {
  it('matches many small steps of use then decay', () => {
    let stepped = 10;
    for (let i = 0; i < 10_000; i++) stepped = decayUsage(stepped, 360, HOUR) + (4 * 360) / 1000;
    expect(Math.abs(accrueUsage(10, 4, HOUR, HOUR) - stepped) / stepped).toBeLessThan(1e-4);
  });

  it('without decay adds GPU-seconds', () => {
    expect(accrueUsage(1, 2, 10_000, 0)).toBe(21);
  });

  it('converges to gpus × half-life / ln 2 under constant use', () => {
    expect(accrueUsage(0, 1, 100 * HOUR, HOUR)).toBeCloseTo(HOUR / 1000 / Math.LN2, 3);
  });
});

describe('standings', () => {
  it('compares each active user with an equal (or weighted) share', () => {
    const st = standings({ pending: [pend('a', 1), pend('b', 1, { user: 'bob' })], running: [run('c', { n0: [0] }, { user: 'carol' })], usageByUser: { alice: 300, bob: 100, carol: 0, dave: 1e9 }, sharesByUser: { bob: 2 } });
    expect([...st.keys()].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(st.get('alice')!.ratio).toBeCloseTo(0.75 / 0.25);
    expect(st.get('bob')!.ratio).toBeCloseTo(0.25 / 0.5);
    expect(st.get('bob')!.normalized).toBe(50);
    expect(st.get('carol')!.ratio).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles up to the cap, between half and all of each step', () => {
    const low = new Backoff(250, 5_000, () => 0);
    const high = new Backoff(250, 5_000, () => 1);
    const lows = Array.from({ length: 7 }, () => low.next());
    const highs = Array.from({ length: 7 }, () => high.next());
    expect(highs).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(lows).toEqual([125, 250, 500, 1_000, 2_000, 2_500, 2_500]);
  });

  it('starts over after reset', () => {
    const b = new Backoff(100, 1_000, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('never overflows after many attempts', () => {
    const b = new Backoff(100, 1_000, () => 1);
    for (let i = 0; i < 100; i += 1) b.next();
    expect(b.next()).toBe(1_000);
  });

  it('keeps under a limit learned from the coordinator, but never under the shortest delay', () => {
    const b = new Backoff(100, 5_000, () => 1);
    b.limit(2_000);
    for (let i = 0; i < 20; i += 1) b.next();
    expect(b.next()).toBe(2_000);
    b.limit(10);
    expect(b.next()).toBe(100);
  });
});

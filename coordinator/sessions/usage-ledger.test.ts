import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { accrueRows, gpusByUser, UsageLedger } from './usage-ledger.js';

const HOUR = 3_600_000;

describe('accrueRows', () => {
  it.each<[string, number, number, number, number]>([
    // what, previous GPU-s, GPUs held, elapsed ms, expected GPU-s (half-life 1 h)
    ['nothing held for one half-life halves it', 1000, 0, HOUR, 500],
    ['nothing held for two half-lives quarters it', 1000, 0, 2 * HOUR, 250],
    ['no time passed changes nothing', 1000, 4, 0, 1000],
    ['a clock that went back changes nothing', 1000, 4, -5_000, 1000],
    ['1 GPU for one half-life from 0 adds the decayed integral', 0, 1, HOUR, 3600 / (2 * Math.LN2)],
  ])('%s', (_what, previous, held, elapsed, expected) => {
    const [row] = accrueRows([{ user: 'a', gpuSeconds: previous, updatedMs: 10_000 }], new Map([['a', held]]), 10_000 + elapsed, HOUR);
    expect(row!.gpuSeconds).toBeCloseTo(expected, 6);
  });

  it('starts a user seen for the first time at 0 now', () => {
    const rows = accrueRows([], new Map([['new', 2], ['waiting', 0]]), 5_000, HOUR);
    expect(rows).toEqual([{ user: 'new', gpuSeconds: 0, updatedMs: 5_000 }, { user: 'waiting', gpuSeconds: 0, updatedMs: 5_000 }]);
  });

  it('sums the GPUs each user holds, with 0 for users who only wait', () => {
    const held = gpusByUser([{ user: 'a', gpus: 2 }, { user: 'b', gpus: 1 }, { user: 'a', gpus: 4 }], [{ user: 'c' }, { user: 'a' }]);
    expect(held).toEqual(new Map([['a', 6], ['b', 1], ['c', 0]]));
  });
});

describe('UsageLedger', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-usage-'));
    store = openStore(join(dir, 'state.sqlite'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accrues what users hold, persists it across a restart, and decays it afterwards', () => {
    const ledger = new UsageLedger(store, HOUR);
    ledger.accrue(new Map([['alice', 2]]), 0);
    const after = ledger.accrue(new Map([['alice', 2]]), HOUR);
    expect(after.alice).toBeCloseTo((2 * 3600) / (2 * Math.LN2), 6);
    store.close();
    store = openStore(join(dir, 'state.sqlite'));
    const reopened = new UsageLedger(store, HOUR);
    expect(reopened.peek(new Map(), HOUR).alice).toBeCloseTo(after.alice!, 6);
    expect(reopened.accrue(new Map(), 2 * HOUR).alice).toBeCloseTo(after.alice! / 2, 6);
  });

  it('peek computes without writing', () => {
    const ledger = new UsageLedger(store, HOUR);
    ledger.accrue(new Map([['alice', 1]]), 0);
    expect(ledger.peek(new Map([['alice', 1]]), HOUR).alice).toBeGreaterThan(0);
    expect(store.usage()).toEqual([{ user: 'alice', gpuSeconds: 0, updatedMs: 0 }]);
  });
});

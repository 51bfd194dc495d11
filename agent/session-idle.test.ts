import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../common/proto/types.js';
import type { RankPhase } from './runner/rank-runner.js';
import type { RankSpec } from './runner/rank-spec.js';
import { gpuAllocations, SessionIdleness } from './session-idle.js';

const MINUTE = 60_000;
const clock = { ms: 0, now(): number { return this.ms; } };
const rank = (session: string, gpuIndices: number[], phase: RankPhase = 'running') =>
  ({ spec: { session, gpuIndices } as unknown as RankSpec, record: { phase, createdMs: 0 } });
const gpus = (...utils: Array<number | undefined>): GpuInfo[] => utils.map((u, index) => ({ index, utilizationPct: u }));

describe('gpuAllocations', () => {
  it('maps each session to the GPUs of its running ranks here', () => {
    const out = gpuAllocations([rank('a/x/1', [1, 0]), rank('a/x/1', [2]), rank('b/y/1', [3], 'starting'), rank('c/z/1', []), rank('d/w/1', [4], 'exited')]);
    expect([...out]).toEqual([['a/x/1', [0, 1, 2]]]);
  });
});

describe('SessionIdleness', () => {
  it.each([
    ['idle for the whole window', [[0, 50], [0, 50], [0, 50]], ['a/x/1']],
    ['busy once in the window', [[0, 0], [3, 0], [0, 0]], []],
    ['idle but not yet for the window', [[50, 0], [0, 0], [0, 0]], []],
    ['a sample without utilization proves nothing', [[0, 0], [undefined, 0], [0, 0]], []],
  ] as const)('%s', (_name, samples, idle) => {
    clock.ms = 0;
    const s = new SessionIdleness(10 * MINUTE, clock);
    const ranks = [rank('a/x/1', [0]), rank('b/y/1', [1], 'starting')];
    let out: string[] = [];
    for (const utils of samples) {
      out = s.update(gpus(...utils), ranks);
      clock.ms += 5 * MINUTE;
    }
    expect(out).toEqual(idle);
  });

  it('keeps reporting from the last reading when a heartbeat has none, and forgets ended sessions', () => {
    clock.ms = 0;
    const s = new SessionIdleness(MINUTE, clock);
    const ranks = [rank('a/x/1', [0, 1])];
    expect(s.update(gpus(0, 0), ranks)).toEqual([]);
    clock.ms = MINUTE;
    expect(s.update(undefined, ranks)).toEqual(['a/x/1']);
    expect(s.update(undefined, [])).toEqual([]);
    expect(s.update(gpus(0, 0), [rank('a/x/1', [0, 1], 'exited')])).toEqual([]);
  });
});

import { describe, expect, test } from 'vitest';
import type { GpuInfo } from '../../common/proto/types.js';
import { HeartbeatUsage } from './heartbeat-usage.js';
import { IdleTracker } from './idle-tracker.js';

const gpu = (index: number, utilizationPct?: number, extra: Partial<GpuInfo> = {}): GpuInfo => ({
  index,
  uuid: `GPU-${index}`,
  health: 'ok',
  healthReason: '',
  processes: [],
  ...(utilizationPct === undefined ? {} : { utilizationPct }),
  ...extra,
});

describe('IdleTracker', () => {
  // Samples every minute; window 3 minutes; session s on GPUs 0 and 1.
  test.each<[string, Array<[number | undefined, number | undefined]>, boolean]>([
    ['idle for the whole window', [[0, 0], [0, 0], [0, 0], [0, 0]], true],
    ['one GPU busy once restarts the window', [[0, 0], [0, 0], [0, 5], [0, 0], [0, 0]], false],
    ['not long enough', [[0, 0], [0, 0], [0, 0]], false],
    ['a missing figure proves nothing', [[0, 0], [0, undefined], [0, 0], [0, 0]], false],
    ['busy throughout', [[90, 80], [95, 85], [99, 70], [97, 60]], false],
  ])('%s', (_name, samples, idle) => {
    const tracker = new IdleTracker({ windowMs: 3 * 60_000 });
    const allocations = new Map([['alice/mnist/1', [0, 1]]]);
    samples.forEach(([a, b], minute) => tracker.observe([gpu(0, a), gpu(1, b)], allocations, minute * 60_000));
    const now = (samples.length - 1) * 60_000;
    expect(tracker.idleSessions(now).map((s) => s.session)).toEqual(idle ? ['alice/mnist/1'] : []);
  });

  test('reports since when, and forgets sessions that left', () => {
    const tracker = new IdleTracker({ windowMs: 1000, thresholdPct: 2 });
    tracker.observe([gpu(0, 1), gpu(1, 50)], new Map([['a/x/1', [0]], ['b/x/1', [1]]]), 500);
    tracker.observe([gpu(0, 2), gpu(1, 50)], new Map([['a/x/1', [0]], ['b/x/1', [1]]]), 2000);
    expect(tracker.idleSessions(2000)).toEqual([{ session: 'a/x/1', idleSinceMs: 500, gpuIndices: [0] }]);
    tracker.observe([gpu(0, 0)], new Map(), 3000);
    expect(tracker.idleSessions(3000)).toEqual([]);
  });

  test('a session with no GPUs is never idle', () => {
    const tracker = new IdleTracker({ windowMs: 0 });
    tracker.observe([gpu(0, 0)], new Map([['cpu/x/1', []]]), 0);
    expect(tracker.idleSessions(10)).toEqual([]);
  });
});

describe('HeartbeatUsage', () => {
  // [time ms, utilization of GPU 0, health of GPU 0] → sends?
  test.each<[string, Array<[number, number, string]>, boolean[]]>([
    ['first heartbeat always carries GPUs', [[0, 0, 'ok']], [true]],
    ['unchanged usage is not repeated until maxSilence', [[0, 10, 'ok'], [5000, 10, 'ok'], [30000, 11, 'ok'], [60000, 10, 'ok']], [true, false, false, true]],
    ['a usage move waits for minInterval', [[0, 10, 'ok'], [5000, 90, 'ok'], [10000, 90, 'ok']], [true, false, true]],
    ['a health change goes at once', [[0, 10, 'ok'], [1000, 10, 'quarantined']], [true, true]],
  ])('%s', (_name, beats, expected) => {
    const usage = new HeartbeatUsage({ minIntervalMs: 10_000, maxSilenceMs: 60_000 });
    const sent = beats.map(([t, util, health]) => usage.next([gpu(0, util, { health })], t).length > 0);
    expect(sent).toEqual(expected);
  });
});

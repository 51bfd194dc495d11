import { describe, expect, test } from 'vitest';
import { HealthTracker, stateProblems } from './health.js';
import type { HealthSignals } from './records.js';

const clean: HealthSignals = { throttle: [], repairs: [] };

describe('stateProblems', () => {
  test.each([
    [{}, []],
    [{ retiredPagesPending: true }, ['retired pages pending: reset the GPU or reboot to retire them']],
    [{ remappedRowsFailure: true }, ['row remapping failure occurred: the GPU memory needs service']],
    [{ remappedRowsPending: true }, ['row remapping pending: reset the GPU to apply it']],
    [{ throttle: ['hw_slowdown', 'hw_power_brake_slowdown'] }, ['clocks throttled by hardware slowdown, hardware power-brake slowdown']],
    [{ throttle: ['sw_thermal_slowdown'] }, ['clocks throttled by software thermal slowdown']],
    [{ recoveryAction: 'Reset' }, ['driver asks for GPU recovery action: Reset']],
    [{ resetRequired: true }, ['driver reports the GPU needs a reset']],
    [{ repairs: ['tpc_repair_pending'] }, ['memory repair state: tpc repair pending']],
    [{ volatileUncorrectable: 5, retiredPagesPending: false, remappedRowsPending: false }, []],
  ] as const)('%j → %j', (signals, problems) => {
    expect(stateProblems({ ...clean, ...signals } as HealthSignals)).toEqual(problems);
  });
});

describe('HealthTracker', () => {
  // Each step: [problems now, lost message or undefined] → expected health after the check.
  type Step = [string[], string | undefined, string];
  test.each<[string, Step[]]>([
    ['stays ok', [[[], undefined, 'ok'], [[], undefined, 'ok']]],
    [
      'quarantined, then released after 3 clean checks',
      [
        [['hot'], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'ok'],
      ],
    ],
    [
      'a new problem restarts the count',
      [
        [['hot'], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [['hot'], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'ok'],
      ],
    ],
    [
      'lost, back (quarantined), released',
      [
        [[], 'GPU is lost', 'lost'],
        [[], 'GPU is lost', 'lost'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'quarantined'],
        [[], undefined, 'ok'],
      ],
    ],
  ])('%s', (_name, steps) => {
    const tracker = new HealthTracker(3);
    for (const [problems, lost, expected] of steps) expect(tracker.observe('0.-', problems, lost).health).toBe(expected);
  });

  test('reasons carry the driver words and the release progress', () => {
    const tracker = new HealthTracker(2);
    expect(tracker.observe('k', [], 'Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost')).toEqual({
      health: 'lost',
      reason: 'Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost',
    });
    expect(tracker.observe('k', []).reason).toBe('was lost: Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost (clean checks 1/2)');
    expect(tracker.observe('k', [])).toEqual({ health: 'ok', reason: '' });
  });

  test('volatile ECC counts as a problem when it rises, not while it stays put', () => {
    const tracker = new HealthTracker(2);
    const steps: Array<[number | undefined, boolean]> = [[0, false], [1, true], [1, false], [1, false], [3, true], [0, false], [undefined, false]];
    for (const [count, event] of steps) expect(tracker.eccIncrease('gpu:0', count) !== undefined).toBe(event);
    expect(tracker.eccIncrease('gpu:1', 2)).toBe('volatile uncorrectable (double-bit) ECC errors: 2 (was 0)');
  });

  test('GPUs are tracked apart', () => {
    const tracker = new HealthTracker(1);
    tracker.observe('a', ['bad']);
    expect(tracker.current('a').health).toBe('quarantined');
    expect(tracker.current('b').health).toBe('ok');
  });
});

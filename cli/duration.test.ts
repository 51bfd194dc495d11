import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
    ['0s', 0],
  ])('%j is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', 's', '5 m', '-5s', '5x', '1h30', 'ms5', '5mm'])('%j is refused with NSML_E_USAGE', (text) => {
    expect(() => parseDuration(text, '--time')).toThrow(expect.objectContaining({ code: 'NSML_E_USAGE', message: expect.stringContaining('--time') }));
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [12_000, '12s'],
    [200_000, '3m20s'],
    [7_500_000, '2h05m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d4h'],
    [-1, '-'],
  ])('%d ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

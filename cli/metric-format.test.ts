import { describe, expect, it } from 'vitest';
import { formatMetricValue, formatSummary, jsonNumber } from './metric-format.js';

describe('metric values for people and for JSON', () => {
  it.each([
    [0.30000000000000004, '0.3'],
    [12, '12'],
    [1234567.891, '1234570'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [-0.000123456789, '-0.000123457'],
  ])('%s reads %s', (value, text) => {
    expect(formatMetricValue(value)).toBe(text);
  });

  it('writes the non-finite values as the bridge does', () => {
    expect([NaN, Infinity, -Infinity, 0.5].map(jsonNumber)).toEqual(['NaN', 'Infinity', '-Infinity', 0.5]);
  });

  it('puts a summary in one sorted cell, cut to a width', () => {
    expect(formatSummary({ 'val/acc': 0.912345, loss: 0.3 })).toBe('loss=0.3 val/acc=0.912345');
    expect(formatSummary({ a: 1, b: 2 }, 5)).toBe('a=1 …');
    expect(formatSummary(undefined)).toBe('');
  });
});

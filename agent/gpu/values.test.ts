import { describe, expect, test } from 'vitest';
import { availableText, normalizeBusId, parseCount, parseFlag, parseMib, parseNumber } from './values.js';

describe('parseNumber', () => {
  test.each([
    ['35.06 W', 35.06],
    ['7 %', 7],
    ['11125 MiB', 11125],
    ['  42 ', 42],
    ['-8 C', -8],
    ['192 bank(s)', 192],
    ['N/A', undefined],
    ['[N/A]', undefined],
    ['[Not Supported]', undefined],
    ['[Unknown Error]', undefined],
    ['[Insufficient Permissions]', undefined],
    ['[Function Not Found]', undefined],
    ['[Requested functionality has been deprecated]', undefined],
    ['Requested functionality has been deprecated', undefined],
    ['[REDACTED]', undefined],
    ['NaN', undefined],
    ['Infinity', undefined],
    ['1e999 C', undefined],
    ['0x1F', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (raw, expected) => {
    expect(parseNumber(raw)).toBe(expected);
  });
});

describe('parseMib and parseCount', () => {
  test.each([
    ['81920 MiB', 81920],
    ['2 GiB', 2048],
    ['512 KiB', 1],
    ['1024', 1024],
    ['-1 MiB', undefined],
    ['[N/A]', undefined],
  ])('parseMib %j → %j', (raw, expected) => {
    expect(parseMib(raw)).toBe(expected);
  });

  test.each([
    ['3', 3],
    ['2.6', 3],
    ['-1', undefined],
    ['None', undefined],
  ])('parseCount %j → %j', (raw, expected) => {
    expect(parseCount(raw)).toBe(expected);
  });
});

describe('flags, text, bus ids', () => {
  test.each([
    ['Yes', true],
    ['Active', true],
    ['Enabled', true],
    ['No', false],
    ['Not Active', false],
    ['Disabled', false],
    ['N/A', undefined],
    ['Reset', undefined],
  ])('parseFlag %j → %j', (raw, expected) => {
    expect(parseFlag(raw)).toBe(expected);
  });

  test.each([
    ['None', undefined],
    ['Not Found', undefined],
    ['Graphics Device', 'Graphics Device'],
    ['  Reset ', 'Reset'],
  ])('availableText %j → %j', (raw, expected) => {
    expect(availableText(raw)).toBe(expected);
  });

  test.each([
    ['0000:04:00.0', '0:04:00.0'],
    ['00000000:04:00.0', '0:04:00.0'],
    ['00001580:00:00.0', '1580:00:00.0'],
    ['0000:0b:00.0', '0:0B:00.0'],
    ['02:00.0', '0:02:00.0'],
  ])('normalizeBusId %j → %j', (raw, expected) => {
    expect(normalizeBusId(raw)).toBe(expected);
  });
});

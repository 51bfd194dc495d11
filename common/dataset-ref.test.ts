import { describe, expect, it } from 'vitest';
import { formatDatasetRef, parseDatasetList, parseDatasetRef } from './dataset-ref.js';

const RULE = /lowercase letters, digits, "-" and "_", at most 64 characters/;

describe('dataset references', () => {
  it.each([
    ['mnist', { name: 'mnist', version: 0 }],
    ['mnist@3', { name: 'mnist', version: 3 }],
    ['a_b-c9', { name: 'a_b-c9', version: 0 }],
    ['9lives@12', { name: '9lives', version: 12 }],
    ['x'.repeat(64), { name: 'x'.repeat(64), version: 0 }],
  ])('parses %s', (text, ref) => {
    expect(parseDatasetRef(text)).toEqual(ref);
    expect(formatDatasetRef(ref)).toBe(text);
  });

  it.each([
    ['MNIST', RULE],
    ['my data', RULE],
    ['a.b', RULE],
    ['../etc', RULE],
    ['', RULE],
    ['-lead', RULE],
    ['x'.repeat(65), RULE],
    ['naïve', RULE],
    ['mnist@0', /NAME@V with V a version number from 1/],
    ['mnist@v2', /NAME@V/],
    ['mnist@', /NAME@V/],
    ['mnist@1@2', /NAME@V|lowercase/],
  ])('refuses %j, stating the rule', (text, rule) => {
    expect(() => parseDatasetRef(text)).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_NAME', message: expect.stringMatching(rule) }));
  });

  it('parses comma-separated lists for nsml run -d, in order', () => {
    expect(parseDatasetList('a,b@2, c')).toEqual([{ name: 'a', version: 0 }, { name: 'b', version: 2 }, { name: 'c', version: 0 }]);
  });

  it.each([
    ['a,,b', 'NSML_E_INVALID_NAME'],
    ['a,a@2', 'NSML_E_INVALID_ARGUMENT'],
    [Array.from({ length: 17 }, (_, i) => `d${i}`).join(','), 'NSML_E_INVALID_ARGUMENT'],
  ])('refuses the list %j', (text, code) => {
    expect(() => parseDatasetList(text)).toThrow(expect.objectContaining({ code }));
  });
});

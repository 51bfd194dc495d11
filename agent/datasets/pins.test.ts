import { describe, expect, it } from 'vitest';
import { pinsFromStart } from './pins.js';

const M = 'a'.repeat(64);

describe('pinsFromStart', () => {
  it('keeps valid pins in order', () => {
    expect(pinsFromStart([{ name: 'b', version: 2, manifest: M }, { name: 'a', version: 1, manifest: M }])).toEqual([
      { name: 'b', version: 2, manifest: M }, { name: 'a', version: 1, manifest: M },
    ]);
    expect(pinsFromStart(undefined)).toEqual([]);
  });

  it.each([
    [{ name: '../x', version: 1, manifest: M }, 'NSML_E_INVALID_NAME'],
    [{ name: 'x', version: 0, manifest: M }, 'NSML_E_INVALID_ARGUMENT'],
    [{ name: 'x', version: 1, manifest: 'nothex' }, 'NSML_E_INVALID_ARGUMENT'],
  ])('refuses %j', (pin, code) => {
    expect(() => pinsFromStart([pin])).toThrow(expect.objectContaining({ code }));
  });

  it('refuses a name twice: both would mount at the same folder', () => {
    expect(() => pinsFromStart([{ name: 'x', version: 1, manifest: M }, { name: 'x', version: 2, manifest: M }])).toThrow(/named twice/);
  });
});

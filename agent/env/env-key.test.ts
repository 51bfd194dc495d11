import { describe, expect, it } from 'vitest';
import { envKey } from './env-key.js';

const req = (fingerprint: string) => ({ installArgs: [], count: 1, fingerprint });
const py = { path: '/usr/bin/python3', version: '3.11.7' };

describe('envKey', () => {
  it('is 12 hex digits, the same for the same declaration and interpreter', () => {
    expect(envKey(req('a'), py)).toMatch(/^[0-9a-f]{12}$/);
    expect(envKey(req('a'), py)).toBe(envKey(req('a'), { ...py }));
  });

  it.each([
    ['another declaration', req('b'), py],
    ['another interpreter version', req('a'), { ...py, version: '3.11.8' }],
    ['another interpreter path', req('a'), { ...py, path: '/opt/python3' }],
  ])('changes with %s', (_what, r, p) => {
    expect(envKey(r, p)).not.toBe(envKey(req('a'), py));
  });
});

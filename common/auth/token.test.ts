import { describe, expect, it } from 'vitest';
import { hashToken, mintToken, parseToken, tokenHint, tokenKind } from './token.js';

describe('nsml tokens', () => {
  it('carry their kind, 36 base62 characters and a checksum that catches any one-character change', () => {
    const t = mintToken('user');
    expect(t).toMatch(/^nsmlu_[0-9A-Za-z]{36}$/);
    expect(tokenKind(t)).toBe('user');
    expect(tokenKind(mintToken('node'))).toBe('node');
    for (let i = 6; i < t.length; i += 1) {
      const other = t[i] === 'a' ? 'b' : 'a';
      expect(tokenKind(t.slice(0, i) + other + t.slice(i + 1)), `changed at ${i}`).toBeUndefined();
    }
  });

  it.each([
    ['', 'empty'],
    ['nsmlu_', 'no body'],
    ['ghp_' + 'a'.repeat(36), 'another prefix'],
    ['nsmlx_' + 'a'.repeat(36), 'an unknown kind'],
    [mintToken('user') + 'a', 'one character too many'],
    [mintToken('user').replace(/.$/, '-'), 'a character outside base62'],
  ])('refuses %j (%s) without echoing it', (text) => {
    expect(tokenKind(text)).toBeUndefined();
    expect(() => parseToken(text, 'the test')).toThrow(expect.objectContaining({ code: 'NSML_E_UNAUTHENTICATED' }));
    if (text.length > 8) expect(() => parseToken(text, 'x')).toThrow(expect.not.objectContaining({ message: expect.stringContaining(text) }));
  });

  it('are random, hashed to 64 hex digits, and hinted by their first characters only', () => {
    const a = mintToken('user');
    const b = mintToken('user');
    expect(a).not.toBe(b);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).not.toBe(hashToken(b));
    expect(tokenHint(a)).toBe(`${a.slice(0, 10)}…`);
    expect(parseToken(`  ${a}\n`, 'stdin').token).toBe(a);
  });
});

import { describe, expect, it } from 'vitest';
import { hashNodeSecret, newNodeSecret, verifyNodeIdentity } from './node-identity.js';

const SECRET = newNodeSecret();
const stored = (hash: string | undefined) => ({ nodeSecretHash: () => hash });

describe('verifyNodeIdentity', () => {
  it.each([
    ['a new node id', undefined, '', false, { issue: true }],
    ['a new node id presenting something', undefined, 'whatever', false, { issue: true }],
    ['the right secret', hashNodeSecret(SECRET), SECRET, true, { issue: false }],
    ['a node from before secrets, not connected', '', '', false, { issue: true }],
  ] as const)('accepts %s', (_what, hash, presented, connected, verdict) => {
    expect(verifyNodeIdentity(stored(hash), 'node1', presented, connected)).toEqual(verdict);
  });

  it.each([
    ['no secret', hashNodeSecret(SECRET), '', false],
    ['a wrong secret', hashNodeSecret(SECRET), newNodeSecret(), true],
    ['a node from before secrets that is connected', '', '', true],
  ] as const)('refuses %s with NSML_E_NODE_ID_TAKEN, saying what to do', (_what, hash, presented, connected) => {
    expect(() => verifyNodeIdentity(stored(hash), 'node1', presented, connected)).toThrow(
      expect.objectContaining({ code: 'NSML_E_NODE_ID_TAKEN', message: expect.stringContaining('nsml node forget node1') }),
    );
  });

  it('stores only a hash: 64 hex characters, never the secret', () => {
    expect(hashNodeSecret(SECRET)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashNodeSecret(SECRET)).not.toContain(SECRET);
  });
});

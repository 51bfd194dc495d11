import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../common/auth/token.js';
import { tokenMetadata } from '../../common/grpc/options.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { Authenticator } from './authenticator.js';
import { hashNodeSecret, newNodeSecret } from '../agents/node-identity.js';
import { issueToken } from './token-issuer.js';

let store: Store;
let now: number;
let auth: Authenticator;

beforeEach(() => {
  store = openStore(':memory:');
  now = 1_700_000_000_000;
  auth = new Authenticator({ store, clock: { now: () => now } });
  store.users.ensure('alice', false, now, 'test');
  store.users.ensure('root', true, now, 'test');
});
afterEach(() => store.close());

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'allowed';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('Authenticator', () => {
  it('names the user of a valid token, and whether they are admin', () => {
    const alice = issueToken(store.users, { user: 'alice' }, now).token;
    const root = issueToken(store.users, { user: 'root' }, now).token;
    expect(auth.caller(tokenMetadata(alice))).toEqual({ user: 'alice', admin: false });
    expect(auth.caller(tokenMetadata(root))).toEqual({ user: 'root', admin: true });
  });

  it.each([
    ['no token', () => new grpc.Metadata()],
    ['a malformed one', () => tokenMetadata('nsmlu_short')],
    ['a well-formed one it never issued', () => tokenMetadata(mintToken('user'))],
    ['a header that is not Bearer', () => {
      const md = new grpc.Metadata();
      md.set('authorization', 'Basic YWxpY2U6cHc=');
      return md;
    }],
  ])('refuses %s with NSML_E_UNAUTHENTICATED', (_what, md) => {
    expect(codeOf(() => auth.caller(md()))).toBe('NSML_E_UNAUTHENTICATED');
  });

  it('refuses a token at its first call after it was revoked, and after it expired', () => {
    const a = issueToken(store.users, { user: 'alice' }, now);
    const b = issueToken(store.users, { user: 'alice', expiresInMs: 60_000 }, now);
    expect(codeOf(() => auth.caller(tokenMetadata(a.token)))).toBe('allowed');
    store.users.revokeToken(a.row.id, now);
    expect(codeOf(() => auth.caller(tokenMetadata(a.token)))).toBe('NSML_E_UNAUTHENTICATED');
    expect(codeOf(() => auth.caller(tokenMetadata(b.token)))).toBe('allowed');
    now += 60_000;
    expect(codeOf(() => auth.caller(tokenMetadata(b.token)))).toBe('NSML_E_UNAUTHENTICATED');
  });

  it('knows a node by its credential, and lets it act only for a session placed on it', () => {
    const secret = newNodeSecret();
    store.upsertNode('n1', { hostname: 'n1', os: '', cpus: 1, memoryMib: 1, diskFreeMib: 1, gpus: [], agentVersion: '', address: '', gpuProbeError: '', labels: {} } as never, now);
    store.setNodeSecretHash('n1', hashNodeSecret(secret));
    expect(auth.caller(tokenMetadata(secret))).toEqual({ user: '', admin: false, node: 'n1' });
    const s = store.insertSession({
      user: 'alice', dataset: '', gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {}, memo: '', workspace: '', priority: 0, timeLimitS: 0,
    }, now, 'submitted');
    expect(codeOf(() => auth.caller(tokenMetadata(secret, s.name)))).toBe('NSML_E_PERMISSION_DENIED');
    store.updateSession(s.name, { epoch: 1, state: 'running' });
    store.insertAssignments([{ session: s.name, epoch: 1, nodeId: 'n1', rank: 0, gpuIndices: [], state: 'running' } as never]);
    expect(auth.caller(tokenMetadata(secret, s.name))).toEqual({ user: 'alice', admin: false, node: 'n1', session: s.name });
    expect(codeOf(() => auth.caller(tokenMetadata(mintToken('node'), s.name)))).toBe('NSML_E_UNAUTHENTICATED');
  });
});

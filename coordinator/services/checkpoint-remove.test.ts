import type * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListCheckpointsResponse__Output, RemoveCheckpointsResponse__Output } from '../../common/proto/types.js';
import { CheckpointServer } from '../checkpoints/test-fixtures/checkpoint-server.js';
import { errorCodeOf } from '../../test/harness/test-coordinator.js';

let s: CheckpointServer;

beforeEach(async () => {
  s = await CheckpointServer.start();
});
afterEach(async () => {
  await s.cleanup();
});

function call<T>(method: 'Remove' | 'List', req: object, user: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = s.checkpoints[method].bind(s.checkpoints) as (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v?: T) => void) => void;
    fn(req, s.metadataOf(user), { deadline: new Date(Date.now() + 10_000) }, (err, v) => (err ? reject(err) : resolve(v!)));
  });
}

const remove = (session: string, names: string[], user = 'alice') => call<RemoveCheckpointsResponse__Output>('Remove', { session, names }, user);
const names = async (session: string) => (await call<ListCheckpointsResponse__Output>('List', { session, limit: 0 }, 'alice')).checkpoints.map((c) => c.name);

async function failure(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  return p.then(() => ({ code: 'no error', message: '' }), (err: unknown) => ({ code: errorCodeOf(err), message: (err as grpc.ServiceError).details }));
}

async function sessionWith(...saved: string[]): Promise<string> {
  const session = s.session('alice');
  for (const name of saved) await s.save(session, name, { model: `weights ${name}` });
  return session;
}

describe('CheckpointService.Remove (nsml model rm)', () => {
  it('removes the named checkpoints of the owner\'s session and keeps the others', async () => {
    const session = await sessionWith('1', '2', '3');
    expect(await remove(session, ['1', '3', '1'])).toEqual({ session, removed: ['1', '3'] });
    expect(await names(session)).toEqual(['2']);
  });

  it('removes nothing when one name does not exist, and names those that do', async () => {
    const session = await sessionWith('1', '2');
    const missing = await failure(remove(session, ['1', 'nope']));
    expect(missing.code).toBe('NSML_E_NOT_FOUND');
    expect(missing.message).toMatch(/checkpoint "nope" of session .* does not exist; existing: 2, 1/);
    expect(await names(session)).toEqual(['2', '1']);
  });

  it('refuses no name, and a bad one', async () => {
    const session = await sessionWith('1');
    expect((await failure(remove(session, []))).code).toBe('NSML_E_INVALID_ARGUMENT');
    expect((await failure(remove(session, ['../x']))).code).toBe('NSML_E_INVALID_NAME');
  });

  it('lets a control share remove, not a read share; to others the session does not exist', async () => {
    const session = await sessionWith('1', '2');
    for (const user of ['bob', 'carol']) s.store.users.ensure(user, false, 1, 'alice');
    s.store.users.share({ session, user: 'bob', role: 'read', createdMs: 1 });
    expect((await failure(remove(session, ['1'], 'bob'))).code).toBe('NSML_E_PERMISSION_DENIED');
    expect((await failure(remove(session, ['1'], 'carol'))).code).toBe('NSML_E_SESSION_NOT_FOUND');
    s.store.users.share({ session, user: 'carol', role: 'control', createdMs: 1 });
    expect((await remove(session, ['1'], 'carol')).removed).toEqual(['1']);
    expect(await names(session)).toEqual(['2']);
  });
});

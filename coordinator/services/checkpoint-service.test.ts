import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../common/blobs/upload.js';
import { sha256 } from '../../common/hashing.js';
import { encodeManifest } from '../../common/manifest.js';
import type { Checkpoint__Output, ListCheckpointsResponse__Output, RegisterCheckpointRequest } from '../../common/proto/types.js';
import { CheckpointServer } from '../checkpoints/test-fixtures/checkpoint-server.js';
import { errorCodeOf, unaryCall } from '../../test/harness/test-coordinator.js';

let s: CheckpointServer;

beforeEach(async () => {
  s = await CheckpointServer.start();
});
afterEach(async () => {
  await s.cleanup();
});

/** A manifest over these files; uploads the files (unless `upload` is false) and the manifest. */
async function manifestOf(files: Record<string, string>, upload = { files: true, manifest: true }): Promise<string> {
  const entries = [];
  for (const [path, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    if (upload.files) await uploadBytes(s.blobs, data);
    entries.push({ path, mode: 0o644, size: data.length, hash: sha256(data) });
  }
  const m = encodeManifest(entries);
  if (upload.manifest) await uploadBytes(s.blobs, m.bytes);
  return m.hash;
}

function register(req: Partial<RegisterCheckpointRequest> & { session: string }, user = 'alice'): Promise<Checkpoint__Output> {
  const full = { epoch: 1, name: '1', manifest: '', summary: {}, source: 'sdk', ...req };
  return unaryCall(s.checkpoints, s.checkpoints.Register, full, user) as Promise<Checkpoint__Output>;
}

function list(session: string, user = 'alice'): Promise<Checkpoint__Output[]> {
  return (unaryCall(s.checkpoints, s.checkpoints.List, { session, limit: 0 }, user) as Promise<ListCheckpointsResponse__Output>).then((r) => r.checkpoints);
}

function get(session: string, name: string, user = 'alice'): Promise<Checkpoint__Output> {
  return unaryCall(s.checkpoints, s.checkpoints.Get, { session, name }, user) as Promise<Checkpoint__Output>;
}

async function failure(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  return p.then(
    () => ({ code: 'no error', message: '' }),
    (err: unknown) => ({ code: errorCodeOf(err), message: (err as grpc.ServiceError).details }),
  );
}

describe('CheckpointService', () => {
  it('registers a complete checkpoint; Get gives its manifest, List its size, files, summary and source', async () => {
    const session = s.session();
    const manifest = await manifestOf({ model: 'weights', 'extra/opt': 'state!' });
    const reg = await register({ session, name: '3', manifest, summary: { 'val/acc': 0.9, loss: Number.NaN }, source: 'watcher' });
    expect(reg).toMatchObject({ session, name: '3', manifest, files: 2, bytes: 13, epoch: 1, source: 'watcher' });
    expect(await get(session, '3')).toMatchObject({ manifest, files: 2, bytes: 13 });
    const [only] = await list(session);
    expect(only).toMatchObject({ name: '3', bytes: 13, files: 2, source: 'watcher', summary: { 'val/acc': 0.9 } });
    expect(Number.isNaN(only!.summary.loss)).toBe(true);
    expect(only!.createdMs).toBeGreaterThan(0);
    expect(s.store.checkpoints.lastCheckpointAt(session)).toBe(only!.createdMs);
    expect(s.store.checkpoints.lastCheckpointTimes(['running'])).toEqual(new Map([[session, only!.createdMs]]));
  });

  it('refuses a checkpoint whose manifest or files are not stored, and registers nothing', async () => {
    const session = s.session();
    const noManifest = await manifestOf({ model: 'a' }, { files: true, manifest: false });
    const noFiles = await manifestOf({ model: 'b', other: 'c' }, { files: false, manifest: true });
    const a = await failure(register({ session, manifest: noManifest }));
    const b = await failure(register({ session, manifest: noFiles }));
    expect(a.code).toBe('NSML_E_BLOB_NOT_FOUND');
    expect(a.message).toContain('manifest blob');
    expect(b).toEqual({ code: 'NSML_E_BLOB_NOT_FOUND', message: expect.stringContaining('2 of 2 files') });
    expect(await list(session)).toEqual([]);
    expect(s.store.checkpoints.lastCheckpointAt(session)).toBeUndefined();
  });

  it('replaces a checkpoint saved again under the same name', async () => {
    const session = s.session();
    await register({ session, name: 'best', manifest: await manifestOf({ model: 'old' }), summary: { acc: 0.5 } });
    const second = await manifestOf({ model: 'newer' });
    await register({ session, name: 'best', manifest: second, summary: { acc: 0.7 } });
    expect(await list(session)).toEqual([expect.objectContaining({ name: 'best', manifest: second, bytes: 5, summary: { acc: 0.7 } })]);
  });

  it('refuses a save from an older placement of the session (a stale epoch)', async () => {
    const session = s.session('alice', 1);
    const manifest = await manifestOf({ model: 'x' });
    await register({ session, name: 'early', manifest });
    s.store.updateSession(session, { epoch: 2 });
    const stale = await failure(register({ session, name: 'late', epoch: 1, manifest }));
    expect(stale.code).toBe('NSML_E_STALE_EPOCH');
    expect(stale.message).toContain('placement 2');
    expect(await register({ session, name: 'late', epoch: 2, manifest })).toMatchObject({ epoch: 2 });
    expect((await list(session)).map((c) => c.name)).toEqual(['late', 'early']);
  });

  it('answers a missing checkpoint with NSML_E_NOT_FOUND listing those that exist, newest first', async () => {
    const session = s.session();
    const manifest = await manifestOf({ model: 'x' });
    for (const name of ['1', '2', 'best']) await register({ session, name, manifest });
    const missing = await failure(get(session, '7'));
    expect(missing.code).toBe('NSML_E_NOT_FOUND');
    expect(missing.message).toContain('existing: best, 2, 1');
    const empty = s.session();
    expect((await failure(get(empty, '1'))).message).toContain('it has none yet');
  });

  it('lets only the owner read and register (others are told it does not exist), and names a session that does not exist', async () => {
    const session = s.session('alice');
    const manifest = await manifestOf({ model: 'x' });
    await register({ session, manifest });
    for (const p of [list(session, 'bob'), get(session, '1', 'bob'), register({ session, name: '2', manifest }, 'bob')]) {
      expect((await failure(p)).code).toBe('NSML_E_SESSION_NOT_FOUND');
    }
    expect((await failure(get('alice/mnist/99', '1'))).code).toBe('NSML_E_SESSION_NOT_FOUND');
    const raw = new (loadProto().nsml.v1.CheckpointService)(s.address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    const anonymous = await failure(new Promise((resolve, reject) => {
      raw.Get({ session, name: '1' }, { deadline: new Date(Date.now() + 5000) }, (err, res) => (err ? reject(err) : resolve(res)));
    }));
    raw.close();
    expect(anonymous.code).toBe('NSML_E_UNAUTHENTICATED');
  });

  it.each([
    [{ name: 'a/b' }, 'NSML_E_INVALID_NAME'],
    [{ name: '..' }, 'NSML_E_INVALID_NAME'],
    [{ manifest: 'not-a-hash' }, 'NSML_E_INVALID_ARGUMENT'],
    [{ source: 'cron' }, 'NSML_E_INVALID_ARGUMENT'],
    [{ epoch: 0 }, 'NSML_E_INVALID_ARGUMENT'],
    [{ epoch: 5 }, 'NSML_E_INVALID_ARGUMENT'],
    [{ summary: { ['k'.repeat(300)]: 1 } }, 'NSML_E_INVALID_ARGUMENT'],
    [{ session: 'alice/../1' }, 'NSML_E_INVALID_NAME'],
  ])('refuses a registration with %j (%s)', async (patch, code) => {
    const session = s.session();
    const manifest = await manifestOf({ model: 'x' });
    expect((await failure(register({ session, manifest, ...patch }))).code).toBe(code);
    expect(await list(session)).toEqual([]);
  });

  it('keeps checkpoints and the last checkpoint time through a restart', async () => {
    const session = s.session();
    const manifest = await manifestOf({ model: 'kept' });
    const reg = await register({ session, name: 'ep1', manifest, summary: { acc: 0.25 } });
    await s.reopen();
    expect(await get(session, 'ep1')).toMatchObject({ manifest, summary: { acc: 0.25 }, createdMs: reg.createdMs });
    expect(s.store.checkpoints.lastCheckpointAt(session)).toBe(reg.createdMs);
  });
});

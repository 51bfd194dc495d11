import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type { CommitDatasetResponse__Output, DatasetServiceClient, DatasetVersion__Output, Session__Output, SubmitRequest } from '../../common/proto/types.js';
import type { ListDatasetsResponse__Output } from '../../common/proto/generated/nsml/v1/ListDatasetsResponse.js';
import type { ListDatasetVersionsResponse__Output } from '../../common/proto/generated/nsml/v1/ListDatasetVersionsResponse.js';
import type { ListSessionsResponse__Output } from '../../common/proto/generated/nsml/v1/ListSessionsResponse.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let datasets: DatasetServiceClient;
let workspace: string;

beforeEach(async () => {
  t = await startTestCoordinator();
  datasets = new (loadProto().nsml.v1.DatasetService)(t.coordinator.address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
});
afterEach(async () => {
  datasets.close();
  await t.cleanup();
});

async function pushVersion(name: string, files: Record<string, string>, user = 'alice') {
  const manifest = await uploadWorkspace(t.clients.blobs, files, user);
  return unaryCall(datasets, datasets.Commit, { name, manifest, description: '', readers: [] }, user) as Promise<CommitDatasetResponse__Output>;
}

function submit(req: Partial<SubmitRequest>, user = 'alice'): Promise<Session__Output> {
  const s = t.clients.sessions;
  return unaryCall(s, s.Submit, { entry: 'main.py', workspace, ...req }, user) as Promise<Session__Output>;
}

async function failure(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => 'no error', (err: unknown) => errorCodeOf(err));
}

describe('DatasetService and sessions', () => {
  it('commits versions, resolves NAME and NAME@V, and lists them', async () => {
    const v1 = await pushVersion('mnist', { 'train/a.txt': 'a' });
    expect(v1).toMatchObject({ created: true, version: { name: 'mnist', version: 1, files: 1, bytes: 1 }, dataset: { owner: 'alice', versions: 1 } });
    await pushVersion('mnist', { 'train/a.txt': 'b' });
    expect(await unaryCall(datasets, datasets.Resolve, { name: 'mnist', version: 0 })).toMatchObject({ version: 2 });
    expect(await unaryCall(datasets, datasets.Resolve, { name: 'mnist', version: 1 }) as DatasetVersion__Output).toMatchObject({ manifest: v1.version!.manifest });
    const listed = await unaryCall(datasets, datasets.List, { owner: '' }, 'bob') as ListDatasetsResponse__Output;
    expect(listed.datasets.map((d) => [d.name, d.latest?.version])).toEqual([['mnist', 2]]);
    const versions = await unaryCall(datasets, datasets.Versions, { name: 'mnist', version: 0 }) as ListDatasetVersionsResponse__Output;
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
  });

  it('pins the versions a session mounts, names it after the first, and refuses removal while it waits', async () => {
    await pushVersion('mnist', { 'a.txt': 'a' });
    await pushVersion('mnist', { 'a.txt': 'b' });
    await pushVersion('cifar', { 'b.txt': 'c' });
    const s = await submit({ datasets: ['mnist@1', 'cifar'] });
    expect(s).toMatchObject({ name: 'alice/mnist/1', dataset: 'mnist', datasets: ['mnist@1', 'cifar@1'] });
    const got = await unaryCall(t.clients.sessions, t.clients.sessions.Get, { name: s.name }) as Session__Output;
    expect(got.datasets).toEqual(['mnist@1', 'cifar@1']);
    expect(await failure(unaryCall(datasets, datasets.Remove, { name: 'mnist', version: 1 }))).toBe('NSML_E_DATASET_IN_USE');
    expect(await unaryCall(datasets, datasets.Remove, { name: 'mnist', version: 2 })).toMatchObject({ removed: [{ version: 2 }] });
    await unaryCall(t.clients.sessions, t.clients.sessions.Stop, { name: s.name, graceMs: 0 });
    expect(await unaryCall(datasets, datasets.Remove, { name: 'mnist', version: 0 })).toMatchObject({ removed: [{ version: 1 }] });
  });

  it.each([
    [{ datasets: ['nope'] }, 'NSML_E_DATASET_NOT_FOUND'],
    [{ datasets: ['Bad'] }, 'NSML_E_INVALID_NAME'],
    [{ datasets: ['mnist', 'mnist@1'] }, 'NSML_E_INVALID_ARGUMENT'],
    [{ dataset: 'other', datasets: ['mnist'] }, 'NSML_E_INVALID_ARGUMENT'],
    [{ datasets: ['faces'] }, 'NSML_E_PERMISSION_DENIED'],
  ])('refuses a submit with %j (%s) and queues nothing', async (req, code) => {
    await pushVersion('mnist', { 'a.txt': 'a' });
    const manifest = await uploadWorkspace(t.clients.blobs, { 'x.txt': 'x' }, 'carol');
    await unaryCall(datasets, datasets.Commit, { name: 'faces', manifest, description: '', readers: [], private: true }, 'carol');
    expect(await failure(submit(req))).toBe(code);
    const list = await unaryCall(t.clients.sessions, t.clients.sessions.List, { all: true, user: '*', limit: 0 }) as ListSessionsResponse__Output;
    expect(list.sessions).toEqual([]);
  });

  it('keeps a dataset name alone working as a plain session name', async () => {
    expect(await submit({ dataset: 'imagenet' })).toMatchObject({ name: 'alice/imagenet/1', datasets: [] });
  });
});

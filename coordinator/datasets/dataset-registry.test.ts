import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../common/hashing.js';
import { encodeManifest } from '../../common/manifest.js';
import { FileBlobStore } from '../blobs/blob-store.js';
import { openStore } from '../store/sqlite-store.js';
import type { NewSession, Store } from '../store/types.js';
import { DatasetRegistry } from './dataset-registry.js';

let dir: string;
let store: Store;
let blobs: FileBlobStore;
let now = 1_000;
let registry: DatasetRegistry;

async function put(text: string): Promise<string> {
  const data = Buffer.from(text);
  const hash = sha256(data);
  await blobs.writeChunk({ hash, size: data.length, offset: 0, data });
  return hash;
}

/** Stores the files and the manifest (or only the manifest when `partial`); returns the manifest hash. */
async function pushed(files: Record<string, string>, partial = false): Promise<string> {
  const entries = [];
  for (const [path, text] of Object.entries(files)) {
    const hash = partial ? sha256(text) : await put(text);
    entries.push({ path, mode: 0o644, size: Buffer.byteLength(text), hash });
  }
  const { bytes, hash } = encodeManifest(entries);
  await blobs.writeChunk({ hash, size: bytes.length, offset: 0, data: bytes });
  return hash;
}

const session = (user: string, dataset: string): NewSession => ({
  user, dataset, gpus: 0, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [], env: {}, memo: '',
  workspace: 'f'.repeat(64), priority: 0, timeLimitS: 0,
});

const commit = (user: string, name: string, manifest: string, more: { description?: string; private?: boolean; readers?: string[] } = {}) =>
  registry.commit(user, { name, manifest, description: more.description ?? '', readers: more.readers ?? [], ...(more.private === undefined ? {} : { private: more.private }) });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-datasets-'));
  store = openStore(join(dir, 'state.sqlite'));
  blobs = await FileBlobStore.open(join(dir, 'blobs'));
  registry = new DatasetRegistry({ store, blobs, clock: { now: () => now++ } });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DatasetRegistry', () => {
  it('numbers versions, sums files and bytes, and does not repeat the latest content', async () => {
    const m1 = await pushed({ 'train/a.txt': 'aaa', 'test/b.txt': 'bb' });
    const first = await commit('alice', 'mnist', m1, { description: 'digits' });
    expect(first).toMatchObject({ created: true, version: { name: 'mnist', version: 1, files: 2, bytes: 5, pushedBy: 'alice' } });
    const again = await commit('alice', 'mnist', m1);
    expect(again).toMatchObject({ created: false, version: { version: 1 } });
    const m2 = await pushed({ 'train/a.txt': 'aaaa' });
    expect((await commit('alice', 'mnist', m2)).version.version).toBe(2);
    const [listed] = registry.list('bob');
    expect(listed).toMatchObject({ dataset: { name: 'mnist', owner: 'alice', description: 'digits' }, latest: { version: 2, files: 1 }, versions: 2 });
  });

  it('refuses a manifest whose files are not all stored, and creates nothing', async () => {
    const m = await pushed({ 'a.txt': 'never uploaded' }, true);
    await expect(commit('alice', 'mnist', m)).rejects.toMatchObject({ code: 'NSML_E_DATASET_INCOMPLETE', message: expect.stringMatching(/1 of 1 files .*a\.txt.*run the push again/) });
    await expect(commit('alice', 'mnist', sha256('no such manifest'))).rejects.toMatchObject({ code: 'NSML_E_DATASET_INCOMPLETE' });
    expect(registry.list('alice')).toEqual([]);
  });

  it('lets only the owner push, share and remove', async () => {
    const m = await pushed({ 'a.txt': 'a' });
    await commit('alice', 'mnist', m);
    const other = await pushed({ 'a.txt': 'b' });
    await expect(commit('bob', 'mnist', other)).rejects.toMatchObject({ code: 'NSML_E_PERMISSION_DENIED', message: expect.stringContaining('belongs to alice') });
    expect(() => registry.remove('bob', { name: 'mnist', version: 0 })).toThrow(expect.objectContaining({ code: 'NSML_E_PERMISSION_DENIED' }));
    expect(() => registry.share('bob', 'mnist', { add: ['bob'], remove: [] })).toThrow(expect.objectContaining({ code: 'NSML_E_PERMISSION_DENIED' }));
  });

  it('shows a private dataset only to its owner and the users it names', async () => {
    const m = await pushed({ 'a.txt': 'secret' });
    await commit('alice', 'faces', m, { private: true, readers: ['carol'] });
    expect(registry.list('bob')).toEqual([]);
    expect(registry.list('carol').map((l) => l.dataset.name)).toEqual(['faces']);
    expect(() => registry.resolve('bob', { name: 'faces', version: 0 })).toThrow(expect.objectContaining({ code: 'NSML_E_PERMISSION_DENIED', message: expect.stringContaining('private to alice') }));
    expect(() => registry.pinsFor('bob', ['faces'])).toThrow(expect.objectContaining({ code: 'NSML_E_PERMISSION_DENIED' }));
    registry.share('alice', 'faces', { add: ['bob'], remove: ['carol'] });
    expect(registry.resolve('bob', { name: 'faces', version: 1 }).manifest).toBe(m);
    expect(() => registry.resolve('carol', { name: 'faces', version: 0 })).toThrow(expect.objectContaining({ code: 'NSML_E_PERMISSION_DENIED' }));
    registry.share('alice', 'faces', { add: [], remove: [], private: false });
    expect(registry.resolve('carol', { name: 'faces', version: 0 }).version).toBe(1);
  });

  it('pins exact versions and refuses to remove a version a queued or running session uses', async () => {
    await commit('alice', 'mnist', await pushed({ 'a.txt': '1' }));
    await commit('alice', 'mnist', await pushed({ 'a.txt': '2' }));
    const pins = registry.pinsFor('alice', ['mnist@1']);
    const s = store.insertSession(session('alice', 'mnist'), 1, 'waiting');
    store.datasets.pin(s.name, pins);
    expect(store.datasets.pinsOf(s.name)).toEqual([{ name: 'mnist', version: 1, manifest: pins[0]!.manifest }]);
    expect(() => registry.remove('alice', { name: 'mnist', version: 1 })).toThrow(expect.objectContaining({ code: 'NSML_E_DATASET_IN_USE', message: expect.stringContaining('alice/mnist/1 (queued') }));
    expect(() => registry.remove('alice', { name: 'mnist', version: 0 })).toThrow(expect.objectContaining({ code: 'NSML_E_DATASET_IN_USE' }));
    expect(registry.remove('alice', { name: 'mnist', version: 2 }).map((v) => v.version)).toEqual([2]);
    store.updateSession(s.name, { state: 'succeeded' });
    expect(registry.remove('alice', { name: 'mnist', version: 0 }).map((v) => v.version)).toEqual([1]);
    expect(registry.list('alice')).toEqual([]);
  });

  it('never reuses a version number, even after removal', async () => {
    await commit('alice', 'mnist', await pushed({ 'a.txt': '1' }));
    registry.remove('alice', { name: 'mnist', version: 0 });
    expect(() => registry.resolve('alice', { name: 'mnist', version: 1 })).toThrow(expect.objectContaining({ code: 'NSML_E_DATASET_NOT_FOUND' }));
    const again = await commit('alice', 'mnist', await pushed({ 'a.txt': '1' }));
    expect(again.version.version).toBe(2);
    expect(() => registry.resolve('alice', { name: 'mnist', version: 1 })).toThrow(expect.objectContaining({ message: expect.stringContaining('its versions are 2') }));
  });

  it.each([
    ['Bad', 'NSML_E_INVALID_NAME'],
    ['nope', 'NSML_E_DATASET_NOT_FOUND'],
    ['nope@2', 'NSML_E_DATASET_NOT_FOUND'],
    ['a,b', 'NSML_E_INVALID_NAME'],
  ])('refuses to pin %j with %s', (ref, code) => {
    expect(() => registry.pinsFor('alice', [ref])).toThrow(expect.objectContaining({ code }));
  });
});

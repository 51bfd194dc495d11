import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobs/blob-store.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { BlobAccess } from './blob-access.js';
import type { Caller } from './caller.js';
import { sessionFor } from './session-access.js';

const WORKSPACE = 'a'.repeat(64);
const CHECKPOINT = 'c'.repeat(64);
let store: Store;
let parent: string;
let fork: string;
let other: string;

function session(user: string): string {
  return store.insertSession({
    user, dataset: 'movie', gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {}, memo: '',
    workspace: user === 'alice' ? WORKSPACE : 'b'.repeat(64), priority: 0, timeLimitS: 0,
  }, 1000, 'submitted').name;
}

beforeEach(() => {
  store = openStore(':memory:');
  parent = session('alice');
  store.checkpoints.put({ session: parent, name: '1', epoch: 1, manifest: CHECKPOINT, files: 1, bytes: 1, summary: {}, source: 'sdk', createdMs: 1 });
  fork = session('root'); // an admin forked alice's session; the admin's agent-side identity is not admin
  store.lineage.put(fork, { parent, kind: 'fork', checkpoint: '1' });
  other = session('root');
});
afterEach(() => store.close());

const agentFor = (s: string): Caller => ({ user: 'root', admin: false, node: 'n1', session: s });
/** Manifests are asked for by their own hash, so the blob files are never read here. */
const blobs = { has: () => false } as unknown as BlobStore;

describe("a fork's agent reads its parent", () => {
  it("sees the parent session and its checkpoints, to read only", () => {
    expect(sessionFor(store, agentFor(fork), parent, 'read').name).toBe(parent);
    expect(() => sessionFor(store, agentFor(fork), parent, 'control')).toThrow(expect.objectContaining({ code: 'NSML_E_SESSION_NOT_FOUND' }));
    expect(() => sessionFor(store, agentFor(other), parent, 'read')).toThrow(expect.objectContaining({ code: 'NSML_E_SESSION_NOT_FOUND' }));
  });

  it("may fetch the parent's checkpoint and workspace manifests; another session of the same user may not", async () => {
    const access = new BlobAccess({ store, blobs });
    expect([...await access.readable(agentFor(fork), [CHECKPOINT, WORKSPACE])].sort()).toEqual([WORKSPACE, CHECKPOINT]);
    expect([...await access.readable(agentFor(other), [CHECKPOINT, WORKSPACE])]).toEqual([]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session__Output, SubmitRequest } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, userMd, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let workspace: string;

beforeEach(async () => {
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n', 'src/train.py': 'pass\n', 'README.md': 'x' });
});
afterEach(async () => {
  await t.cleanup();
});

function submit(req: SubmitRequest, user = 'alice'): Promise<Session__Output> {
  const c = t.clients.sessions;
  return unaryCall(c, c.Submit, { entry: 'main.py', workspace, ...req }, user);
}

async function withNode(gpus: number): Promise<FakeAgent> {
  const agent = new FakeAgent(t.clients.agents, `node-${gpus}`);
  agent.register({ gpus });
  await agent.next((m) => m.registered ?? undefined);
  return agent;
}

describe('SessionService.Submit', () => {
  it('queues a session named USER/DATASET/N with a per-dataset counter', async () => {
    const a = await submit({});
    const b = await submit({});
    const c = await submit({ dataset: 'mnist' });
    expect([a.name, b.name, c.name]).toEqual(['alice/scratch/1', 'alice/scratch/2', 'alice/mnist/1']);
    expect(a.state).toBe('queued');
    expect(a.reason).toBe('no node has joined yet');
  });

  it.each([
    ['bad dataset', { dataset: 'Bad/Name' }, 'NSML_E_INVALID_NAME'],
    ['negative gpus', { gpus: -1 }, 'NSML_E_INVALID_ARGUMENT'],
    ['missing entry', { entry: '' }, 'NSML_E_INVALID_ARGUMENT'],
    ['entry escaping', { entry: '../x.py' }, 'NSML_E_INVALID_NAME'],
    ['entry not in workspace', { entry: 'nope.py' }, 'NSML_E_ENTRY_NOT_FOUND'],
    ['workspace not a hash', { workspace: 'abc' }, 'NSML_E_INVALID_ARGUMENT'],
    ['workspace not uploaded', { workspace: 'a'.repeat(64) }, 'NSML_E_BLOB_NOT_FOUND'],
    ['bad env name', { env: { '1X': 'y' } }, 'NSML_E_INVALID_ARGUMENT'],
    ['gpus not a multiple of per node', { gpus: 3, gpusPerNode: 2 }, 'NSML_E_INVALID_ARGUMENT'],
  ])('rejects %s', async (_what, req, code) => {
    const err = await submit(req as SubmitRequest).catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe(code);
  });

  it('lists a few Python files when the entry is missing', async () => {
    const err = (await submit({ entry: 'nope.py' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('main.py');
    expect(err.message).toContain('src/train.py');
  });

  it('refuses a submit of a workspace the caller did not upload and may not read (a known hash is not enough)', async () => {
    const err = await submit({}, 'bob').catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NSML_E_BLOB_NOT_FOUND');
    expect((err as Error).message).toContain('not in the blob store for bob');
  });

  it('rejects a request that can never fit, naming the largest that fits', async () => {
    const agent = await withNode(4);
    const err = (await submit({ gpus: 8 }).catch((e: unknown) => e)) as Error;
    expect(errorCodeOf(err)).toBe('NSML_E_UNSATISFIABLE');
    expect(err.message).toContain('largest request that fits is 4 GPUs');
    agent.close();
  });
});

describe('SessionService List, Get, Stop, Wait', () => {
  it('lists the caller\'s sessions; "*" is everyone\'s for an admin, and what the caller may see for others', async () => {
    await submit({}, 'alice');
    await submit({ workspace: await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(2)\n' }, 'bob') }, 'bob');
    const c = t.clients.sessions;
    const mine = await unaryCall(c, c.List, {}, 'alice');
    expect(mine.sessions.map((s) => s.name)).toEqual(['alice/scratch/1']);
    const visible = await unaryCall(c, c.List, { user: '*' }, 'alice');
    expect(visible.sessions.map((s) => s.name)).toEqual(['alice/scratch/1']);
    const all = await (new Promise<{ sessions: Session__Output[] }>((resolve, reject) => c.List({ user: '*' }, userMd('root-admin', true), (e, r) => (e ? reject(e) : resolve(r!)))));
    expect(all.sessions.map((s) => s.name).sort()).toEqual(['alice/scratch/1', 'bob/scratch/1']);
  });

  it('gets a session with its events; unknown is NSML_E_SESSION_NOT_FOUND', async () => {
    const s = await submit({});
    const c = t.clients.sessions;
    const got = await unaryCall(c, c.Get, { name: s.name });
    expect(got.events.map((e) => e.state)).toEqual(['queued']);
    const err = await unaryCall(c, c.Get, { name: 'alice/scratch/99' }).catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NSML_E_SESSION_NOT_FOUND');
  });

  it('stops a queued session at once; a second stop is NSML_E_ALREADY_FINISHED; others may not stop it', async () => {
    const s = await submit({});
    const c = t.clients.sessions;
    const denied = await unaryCall(c, c.Stop, { name: s.name }, 'bob').catch((e: unknown) => e);
    expect(errorCodeOf(denied)).toBe('NSML_E_SESSION_NOT_FOUND');
    const stopped = await unaryCall(c, c.Stop, { name: s.name });
    expect(stopped.state).toBe('stopped');
    const again = await unaryCall(c, c.Stop, { name: s.name }).catch((e: unknown) => e);
    expect(errorCodeOf(again)).toBe('NSML_E_ALREADY_FINISHED');
    const all = await unaryCall(c, c.List, { all: true });
    expect(all.sessions[0]!.state).toBe('stopped');
    const active = await unaryCall(c, c.List, {});
    expect(active.sessions).toEqual([]);
  });

  it('Wait returns at the timeout when not terminal, and at once when terminal', async () => {
    const s = await submit({});
    const c = t.clients.sessions;
    const waited = await unaryCall(c, c.Wait, { name: s.name, timeoutMs: 200 });
    expect(waited.state).toBe('queued');
    const pending = unaryCall(c, c.Wait, { name: s.name, timeoutMs: 30_000 });
    await unaryCall(c, c.Stop, { name: s.name });
    expect((await pending).state).toBe('stopped');
  });
});

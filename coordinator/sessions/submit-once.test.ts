import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import { openStore } from '../store/sqlite-store.js';
import type { NewSession, Store } from '../store/types.js';
import { submitKey, submitOnce } from './submit-once.js';

const clock = { now: () => 1_000 };
let store: Store;

beforeEach(() => {
  store = openStore(':memory:');
});
afterEach(() => store.close());

function request(over: Partial<SubmitRequest__Output> = {}): SubmitRequest__Output {
  return {
    dataset: '', gpus: 0, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: ['--lr', '0.1'], memo: '',
    workspace: 'a'.repeat(64), priority: 0, timeLimitS: 0, env: { A: '1', B: '2' }, datasets: [], requestId: 'req-1', parent: '', kind: '', checkpoint: '', python: '', image: '', shmSizeMib: 0, ...over,
  };
}

function session(user: string): NewSession {
  return { user, dataset: 'scratch', gpus: 0, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: [], env: {}, memo: '', workspace: 'a'.repeat(64), priority: 0, timeLimitS: 0 };
}

function submit(req: SubmitRequest__Output, user = 'alice') {
  return submitOnce({ store, clock }, submitKey(req, user), () => store.insertSession(session(user), clock.now(), 'queued'));
}

describe('submitOnce', () => {
  it('creates one session per user and request id, and returns it on a repeat', () => {
    const first = submit(request());
    const again = submit(request());
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, row: { name: first.row.name } });
    expect(store.listSessions({ limit: 100 }).map((s) => s.name)).toEqual(['alice/scratch/1']);
  });

  it('treats the same request with its map keys in another order as the same request', () => {
    const first = submit(request({ env: { A: '1', B: '2' } }));
    expect(submit(request({ env: { B: '2', A: '1' } })).row.name).toBe(first.row.name);
  });

  it('keeps request ids apart per user', () => {
    const a = submit(request(), 'alice');
    const b = submit(request(), 'bob');
    expect([a.created, b.created]).toEqual([true, true]);
    expect(b.row.name).toBe('bob/scratch/1');
  });

  it('creates a session every time without a request id', () => {
    submit(request({ requestId: '' }));
    submit(request({ requestId: '' }));
    expect(store.listSessions({ limit: 100 })).toHaveLength(2);
  });

  it('refuses a request id reused for another request with NSML_E_REQUEST_ID_REUSED, naming the session it made', () => {
    submit(request());
    expect(() => submit(request({ args: ['--lr', '0.2'] }))).toThrow(
      expect.objectContaining({ code: 'NSML_E_REQUEST_ID_REUSED', message: expect.stringContaining('alice/scratch/1') }),
    );
    expect(store.listSessions({ limit: 100 })).toHaveLength(1);
  });

  it('stores the request id in the transaction of the session: a failed creation leaves neither', () => {
    const key = submitKey(request(), 'alice');
    expect(() => submitOnce({ store, clock }, key, () => {
      store.insertSession(session('alice'), clock.now(), 'queued');
      throw new Error('disk full');
    })).toThrow('disk full');
    expect(store.listSessions({ limit: 100 })).toHaveLength(0);
    expect(store.submitRequests.get('alice', 'req-1')).toBeUndefined();
    expect(submit(request()).created).toBe(true);
  });

  it.each([['has a space', 'a b'], ['too long', 'x'.repeat(129)], ['has a slash', 'a/b'], ['has a NUL', 'a\0']])(
    'refuses a request id that %s with NSML_E_INVALID_ARGUMENT',
    (_what, requestId) => {
      expect(() => submitKey(request({ requestId }), 'alice')).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_ARGUMENT' }));
    },
  );
});

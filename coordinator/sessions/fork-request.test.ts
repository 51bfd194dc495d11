import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import { withoutPauseArgs } from '../../common/reserved-args.js';
import type { Caller } from '../auth/caller.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { resolveFork } from './fork-request.js';

let store: Store;
let parent: string;
const alice: Caller = { user: 'alice', admin: false };
const bob: Caller = { user: 'bob', admin: false };

function request(over: Partial<SubmitRequest__Output> = {}): SubmitRequest__Output {
  return {
    dataset: '', gpus: 0, gpusPerNode: 0, cpus: 0, memoryMib: 0, entry: 'main.py', args: ['--lr', '0.1'], memo: '', workspace: 'a'.repeat(64),
    priority: 0, timeLimitS: 0, env: {}, datasets: [], requestId: '', parent: '', kind: '', checkpoint: '', python: '', image: '', shmSizeMib: 0, ...over,
  } as SubmitRequest__Output;
}

function save(session: string, name: string, createdMs: number): void {
  store.checkpoints.put({ session, name, epoch: 1, manifest: 'b'.repeat(64), files: 1, bytes: 1, summary: {}, source: 'sdk', createdMs });
}

beforeEach(() => {
  store = openStore(':memory:');
  parent = store.insertSession({
    user: 'alice', dataset: 'movie', gpus: 1, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [],
    env: { KEEP: '1', NSML_RESUME_FROM: 'alice/movie/0', NSML_RESUME_CHECKPOINT: 'x' }, memo: '', workspace: 'a'.repeat(64), priority: 0, timeLimitS: 0,
  }, 1000, 'submitted').name;
  for (const [name, at] of [['0', 1], ['1', 2], ['2', 3]] as const) save(parent, name, at);
});
afterEach(() => store.close());

describe('resolveFork', () => {
  it('leaves a request without a parent as it is', () => {
    const req = request();
    expect(resolveFork(store, alice, req)).toEqual({ req, lineage: undefined });
  });

  it('continues from the checkpoint asked for: --pause 1 --iteration C appended, NSML_RESUME_FROM set over the parent env', () => {
    const { req, lineage } = resolveFork(store, alice, request({ parent, checkpoint: '1' }));
    expect(req.args).toEqual(['--lr', '0.1', '--pause', '1', '--iteration', '1']);
    expect(req.env).toEqual({ KEEP: '1', NSML_RESUME_FROM: parent });
    expect(lineage).toEqual({ parent, kind: 'fork', checkpoint: '1' });
  });

  it("runs in the parent's Python and image unless the request names its own", () => {
    const withRuntime = store.insertSession({ ...store.getSession(parent)!, runtime: { python: '3.11', image: 'pytorch:2', shmSizeMib: 512 } }, 2000, 'submitted').name;
    save(withRuntime, '1', 4);
    expect(resolveFork(store, alice, request({ parent: withRuntime })).req).toMatchObject({ python: '3.11', image: 'pytorch:2', shmSizeMib: 512 });
    expect(resolveFork(store, alice, request({ parent: withRuntime, python: '3.12' })).req).toMatchObject({ python: '3.12', image: 'pytorch:2' });
  });

  it("takes the parent's dataset versions when the request names none (run --session P without -d)", () => {
    store.datasets.pin(parent, [{ name: 'movie', version: 3, manifest: 'c'.repeat(64) }, { name: 'vocab', version: 1, manifest: 'd'.repeat(64) }]);
    expect(resolveFork(store, alice, request({ parent })).req).toMatchObject({ dataset: 'movie', datasets: ['movie@3', 'vocab@1'] });
    expect(resolveFork(store, alice, request({ parent, dataset: 'other', datasets: ['other'] })).req).toMatchObject({ dataset: 'other', datasets: ['other'] });
  });

  it('defaults to the newest checkpoint; resume is recorded as such', () => {
    const { req, lineage } = resolveFork(store, alice, request({ parent, kind: 'resume' }));
    expect(req.args.slice(-2)).toEqual(['--iteration', '2']);
    expect(lineage).toEqual({ parent, kind: 'resume', checkpoint: '2' });
  });

  it('takes the checkpoint from --iteration in the args (NSML\'s run --pause 1 --iteration N) without repeating it', () => {
    const { req, lineage } = resolveFork(store, alice, request({ parent, args: ['--pause', '1', '--iteration=0'] }));
    expect(req.args).toEqual(['--pause', '1', '--iteration=0']);
    expect(lineage?.checkpoint).toBe('0');
  });

  it.each([
    ['a missing checkpoint, naming those that exist', { checkpoint: '7' }, 'NSML_E_NOT_FOUND', /checkpoint "7" of session alice\/movie\/1 does not exist; existing: 2, 1, 0/],
    ['a checkpoint and --iteration that disagree', { checkpoint: '1', args: ['--iteration', '2'] }, 'NSML_E_INVALID_ARGUMENT', /disagree/],
    ['an unknown kind', { kind: 'clone' }, 'NSML_E_INVALID_ARGUMENT', /kind must be "fork" or "resume"/],
    ['a bad checkpoint name', { checkpoint: '../x' }, 'NSML_E_INVALID_NAME', /checkpoint name/],
  ])('refuses %s', (_what, over, code, message) => {
    expect(() => resolveFork(store, alice, request({ parent, ...over }))).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('refuses kind or checkpoint without a parent', () => {
    expect(() => resolveFork(store, alice, request({ checkpoint: '1' }))).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_ARGUMENT' }));
  });

  it('refuses a parent with no checkpoint', () => {
    const bare = store.insertSession({ ...store.getSession(parent)!, env: {} }, 2000, 'submitted').name;
    expect(() => resolveFork(store, alice, request({ parent: bare }))).toThrow(expect.objectContaining({ code: 'NSML_E_NOT_FOUND', message: expect.stringMatching(/has no checkpoint to continue from/) }));
  });

  it("lets another user fork only a session shared with them (others' do not exist)", () => {
    expect(() => resolveFork(store, bob, request({ parent }))).toThrow(expect.objectContaining({ code: 'NSML_E_SESSION_NOT_FOUND' }));
    store.users.ensure('bob', false, 1, 'alice');
    store.users.share({ session: parent, user: 'bob', role: 'read', createdMs: 1 });
    expect(resolveFork(store, bob, request({ parent })).lineage).toEqual({ parent, kind: 'fork', checkpoint: '2' });
  });
});

describe('withoutPauseArgs', () => {
  it.each([
    [['--lr', '0.1', '--pause', '1', '--iteration', '3'], ['--lr', '0.1']],
    [['--pause=1', '--iteration=best', '--mode', 'train'], ['--mode', 'train']],
    [['--iterations', '5'], ['--iterations', '5']],
  ])('%j -> %j', (args, expected) => expect(withoutPauseArgs(args)).toEqual(expected));
});

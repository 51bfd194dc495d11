import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { resumeArgs, resumeEnv } from './resume.js';

let store: Store;
beforeEach(() => {
  store = openStore(':memory:');
});
afterEach(() => store.close());

function save(session: string, name: string, createdMs: number): void {
  store.checkpoints.put({ session, name, epoch: 1, manifest: 'b'.repeat(64), files: 1, bytes: 1, summary: {}, source: 'sdk', createdMs });
}

const fork = { name: 'alice/movie/2', args: ['--epochs', '9', '--pause', '1', '--iteration', '1'] };

describe('resuming a requeued session', () => {
  it('a fork that has not been preempted runs as submitted', () => {
    save(fork.name, '5', 1);
    expect(resumeArgs(store, { ...fork, preemptions: 0 })).toEqual(fork.args);
    expect(resumeEnv(store, { ...fork, preemptions: 0 })).toEqual({});
  });

  it('a requeued fork with no checkpoint of its own loads its parent\'s again', () => {
    expect(resumeArgs(store, { ...fork, preemptions: 1 })).toEqual(fork.args);
    expect(resumeEnv(store, { ...fork, preemptions: 1 })).toEqual({});
  });

  it('a requeued fork that saved its own goes on from its newest, under its own name', () => {
    save(fork.name, '3', 1);
    save(fork.name, '4', 2);
    expect(resumeArgs(store, { ...fork, preemptions: 1 })).toEqual(['--epochs', '9', '--pause', '1', '--iteration', '4']);
    expect(resumeEnv(store, { ...fork, preemptions: 1 })).toEqual({ NSML_RESUME_FROM: fork.name, NSML_RESUME_CHECKPOINT: '4' });
  });

  it('a requeued session that is not a fork keeps its arguments (the SDK resumes it from the environment)', () => {
    save('alice/movie/1', '4', 1);
    expect(resumeArgs(store, { name: 'alice/movie/1', args: ['--epochs', '9'], preemptions: 2 })).toEqual(['--epochs', '9']);
  });
});

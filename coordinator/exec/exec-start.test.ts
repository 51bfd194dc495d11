import { describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import type { ExecStart__Output } from '../../common/proto/generated/nsml/v1/ExecStart.js';
import type { Caller } from '../auth/caller.js';
import type { AssignmentRow, SessionRow, Store } from '../store/types.js';
import { execTarget } from './exec-start.js';

const RUNNING = 'alice/scratch/1';
const sessions: Record<string, Partial<SessionRow>> = {
  [RUNNING]: { name: RUNNING, user: 'alice', state: 'running', epoch: 2 },
  'alice/scratch/2': { name: 'alice/scratch/2', user: 'alice', state: 'queued', epoch: 0 },
  'alice/scratch/3': { name: 'alice/scratch/3', user: 'alice', state: 'failed', epoch: 1 },
};
const shares: Record<string, string> = { carol: 'read', dave: 'control' };

const store = {
  getSession: (name: string) => sessions[name] as SessionRow | undefined,
  assignments: (session: string, epoch: number) => (session === RUNNING && epoch === 2
    ? [{ nodeId: 'n1', rank: 0 }, { nodeId: 'n2', rank: 1 }] as AssignmentRow[]
    : []),
  users: { shareRole: (_session: string, user: string) => shares[user] },
} as unknown as Pick<Store, 'users' | 'getSession' | 'assignments'>;

const user = (name: string, admin = false): Caller => ({ user: name, admin });

function start(over: Partial<ExecStart__Output> = {}): ExecStart__Output {
  return { session: RUNNING, rank: 0, argv: ['env'], tty: false, size: null, streamId: '', term: '', ...over };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isNsmlError(err) ? err.code : String(err);
  }
  return 'ok';
}

describe('execTarget', () => {
  it.each([
    ['the owner', user('alice'), start(), 'ok'],
    ['an admin', user('root', true), start(), 'ok'],
    ['a control share', user('dave'), start(), 'ok'],
    ['a read share', user('carol'), start(), 'NSML_E_PERMISSION_DENIED'],
    ['another user (as if there were no such session)', user('bob'), start(), 'NSML_E_SESSION_NOT_FOUND'],
    ['a missing session', user('alice'), start({ session: 'alice/scratch/9' }), 'NSML_E_SESSION_NOT_FOUND'],
    ['a queued session', user('alice'), start({ session: 'alice/scratch/2' }), 'NSML_E_SESSION_NOT_RUNNING'],
    ['an ended session', user('alice'), start({ session: 'alice/scratch/3' }), 'NSML_E_SESSION_NOT_RUNNING'],
    ['a rank it does not have', user('alice'), start({ rank: 2 }), 'NSML_E_INVALID_ARGUMENT'],
    ['a negative rank', user('alice'), start({ rank: -1 }), 'NSML_E_INVALID_ARGUMENT'],
    ['an empty command word', user('alice'), start({ argv: [''] }), 'NSML_E_INVALID_ARGUMENT'],
    ['a NUL in the command', user('alice'), start({ argv: ['a\0b'] }), 'NSML_E_INVALID_ARGUMENT'],
    ['a huge command', user('alice'), start({ argv: ['x'.repeat(300_000)] }), 'NSML_E_INVALID_ARGUMENT'],
    ['a terminal too tall', user('alice'), start({ tty: true, size: { rows: 20_000, cols: 80 } }), 'NSML_E_INVALID_ARGUMENT'],
    ['a malformed name', user('alice'), start({ session: '../x' }), 'NSML_E_INVALID_NAME'],
  ] as const)('%s: %s', (_what, caller, s, code) => {
    expect(codeOf(() => execTarget(store, caller, s))).toBe(code);
  });

  it('finds the node of the rank asked and keeps a plain TERM only', () => {
    const t = execTarget(store, user('alice'), start({ rank: 1, argv: [], tty: true, size: { rows: 30, cols: 90 }, term: 'xterm-256color' }));
    expect(t).toEqual({ session: RUNNING, epoch: 2, rank: 1, nodeId: 'n2', argv: [], tty: true, rows: 30, cols: 90, term: 'xterm-256color' });
    expect(execTarget(store, user('alice'), start({ term: 'x\u001b[31m' })).term).toBe('');
  });
});

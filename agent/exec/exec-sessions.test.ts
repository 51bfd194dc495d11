import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../common/proto/load.js';
import type { ExecFrame } from '../../common/proto/generated/nsml/v1/ExecFrame.js';
import type { OpenExec__Output } from '../../common/proto/generated/nsml/v1/OpenExec.js';
import { createLogger } from '../../common/log.js';
import type { Launch } from '../runner/rank-context.js';
import type { ExecDialer, ExecStream } from './exec-client.js';
import { execHelperPath } from './exec-process.js';
import { chooseShell, execCommandOf, ExecSessions, type ExecRank } from './exec-sessions.js';

/** The dial-back as the agent sees it: what it wrote, and frames the test sends down. */
class FakeStream extends EventEmitter {
  readonly written: ExecFrame[] = [];
  ended = false;
  write(f: ExecFrame): boolean {
    this.written.push(f);
    this.emit('wrote');
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('wrote');
  }
  pause(): void {}
  resume(): void {}
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise((r) => this.once('wrote', r));
  }
}

const LAUNCH: Launch = { argv: ['python3', 'main.py'], cwd: '/tmp', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NSML_SESSION: 'a/scratch/1', SHELL: '/bin/sh' } };

function open(over: Partial<OpenExec__Output> = {}): OpenExec__Output {
  return { streamId: 'id1', session: 'a/scratch/1', epoch: 1, rank: 0, argv: ['sh', '-c', 'echo "$NSML_SESSION in $(pwd)"; exit 5'], tty: false, size: null, term: '', ...over };
}

function sessions(rank: ExecRank | undefined): { execs: ExecSessions; stream: FakeStream; dialed: string[] } {
  const stream = new FakeStream();
  const dialed: string[] = [];
  const dialer: ExecDialer = { dial: (s) => (dialed.push(s), stream as unknown as ExecStream), close: () => {} };
  const execs = new ExecSessions({ dialer, rank: () => rank, python: 'python3', helperPath: execHelperPath(repoRoot()), logger: createLogger({}, { level: 'error' }) });
  return { execs, stream, dialed };
}

describe('the shell of nsml attach', () => {
  it.each<[string, Record<string, string>, string[], string]>([
    ['the session SHELL when executable', { SHELL: '/usr/bin/zsh' }, ['/usr/bin/zsh', '/bin/bash'], '/usr/bin/zsh'],
    ['bash when SHELL is not there', { SHELL: '/usr/bin/zsh' }, ['/bin/bash'], '/bin/bash'],
    ['bash when SHELL is relative', { SHELL: 'zsh' }, ['/bin/bash', 'zsh'], '/bin/bash'],
    ['sh when there is no bash', {}, [], '/bin/sh'],
  ])('%s', (_what, env, present, shell) => {
    expect(chooseShell(env, (p) => present.includes(p))).toBe(shell);
  });

  it('runs in the launch folder and variables, with TERM for a terminal', () => {
    const c = execCommandOf(open({ argv: [], tty: true, size: { rows: 10, cols: 20 }, term: 'screen' }), LAUNCH, () => true);
    expect(c).toMatchObject({ argv: ['/bin/sh'], cwd: '/tmp', tty: true, rows: 10, cols: 20 });
    expect(c.env).toMatchObject({ NSML_SESSION: 'a/scratch/1', TERM: 'screen' });
    expect(c.user).toBeUndefined();
  });
});

describe('ExecSessions', () => {
  it('dials back for the session and runs the command in its environment', async () => {
    const { execs, stream, dialed } = sessions({ phase: 'running', launch: () => LAUNCH });
    execs.open(open());
    await stream.until(() => stream.ended);
    expect(dialed).toEqual(['a/scratch/1']);
    expect(stream.written[0]).toEqual({ start: { streamId: 'id1', session: 'a/scratch/1', rank: 0 } });
    const out = Buffer.concat(stream.written.flatMap((f) => (f.stdout ? [Buffer.from(f.stdout as Buffer)] : []))).toString();
    expect(out).toBe('a/scratch/1 in /tmp\n');
    expect(stream.written.at(-1)).toEqual({ exit: { exitCode: 5, signal: '', message: '', code: '' } });
    expect(execs.running).toBe(0);
  });

  it.each([
    ['a rank this node does not run', undefined, /is not on this node/],
    ['a rank that has exited', { phase: 'exited', launch: () => LAUNCH }, /is exited/],
  ])('refuses %s', async (_what, rank, message) => {
    const { execs, stream } = sessions(rank);
    execs.open(open());
    expect(stream.ended).toBe(true);
    const exit = stream.written.at(-1)!.exit!;
    expect(exit.code).toBe('NSML_E_SESSION_NOT_RUNNING');
    expect(exit.message).toMatch(message);
  });

  it('hangs the command up when the stream goes', async () => {
    const { execs, stream } = sessions({ phase: 'running', launch: () => LAUNCH });
    execs.open(open({ argv: ['sh', '-c', 'echo up; exec sleep 30'] }));
    await stream.until(() => stream.written.some((f) => f.stdout));
    expect(execs.running).toBe(1);
    stream.emit('error', new Error('the coordinator went away'));
    expect(execs.running).toBe(0);
  });
});

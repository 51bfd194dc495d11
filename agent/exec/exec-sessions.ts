import { accessSync, constants } from 'node:fs';
import { ErrorCodes, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';
import type { OpenExec__Output } from '../../common/proto/generated/nsml/v1/OpenExec.js';
import type { Launch } from '../runner/rank-context.js';
import type { ExecDialer, ExecStream } from './exec-client.js';
import { type ExecCommand, ExecProcess } from './exec-process.js';

/** A rank this node runs, as exec needs it: its phase and its launch.json. */
export interface ExecRank {
  phase: string;
  launch(): Launch | undefined;
}

export interface ExecSessionsDeps {
  dialer: ExecDialer;
  /** The rank of `session` at `epoch`, when this node has it. */
  rank(session: string, epoch: number, rank: number): ExecRank | undefined;
  python: string;
  helperPath: string;
  logger: Logger;
  /** Whether a file is an executable (the shell's choice); default: access(X_OK). */
  isExecutable?(path: string): boolean;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The interactive shell: the session's $SHELL when it is an absolute executable path, else bash, else sh. */
export function chooseShell(env: Record<string, string>, isExecutable: (path: string) => boolean = executable): string {
  const shell = env.SHELL;
  if (shell && shell.startsWith('/') && isExecutable(shell)) return shell;
  return isExecutable('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

/** The command of an OpenExec in the rank's environment: its folder, variables and user, from launch.json. */
export function execCommandOf(open: OpenExec__Output, launch: Launch, isExecutable?: (path: string) => boolean): ExecCommand {
  const env = { ...launch.env };
  const tty = open.tty;
  if (tty) env.TERM = open.term || 'xterm-256color';
  const argv = open.argv.length > 0 ? open.argv : [chooseShell(env, isExecutable)];
  return { argv, cwd: launch.cwd, env, ...(launch.user ? { user: launch.user } : {}), tty, rows: open.size?.rows ?? 0, cols: open.size?.cols ?? 0 };
}

/**
 * The terminals this agent runs for `nsml exec` and `nsml attach`: each OpenExec from the
 * coordinator dials AgentService.Exec back and runs the command through the helper, in the
 * environment the rank's process was started with. A stream that goes hangs its command up.
 */
export class ExecSessions {
  private readonly live = new Set<ExecProcess>();

  constructor(private readonly deps: ExecSessionsDeps) {}

  open(open: OpenExec__Output): void {
    const stream = this.deps.dialer.dial(open.session);
    stream.on('error', (err) => this.deps.logger.debug('exec stream ended with an error', { session: open.session, error: errorMessage(err) }));
    stream.write({ start: { streamId: open.streamId, session: open.session, rank: open.rank } });
    const rank = this.deps.rank(open.session, open.epoch, open.rank);
    const launch = rank?.phase === 'running' ? rank.launch() : undefined;
    if (!launch) {
      const state = rank ? rank.phase : 'not on this node';
      this.refuse(stream, `rank ${open.rank} of ${open.session} (epoch ${open.epoch}) is ${state}; there is no running process to join`);
      return;
    }
    let command: ExecCommand;
    try {
      command = execCommandOf(open, launch, this.deps.isExecutable);
    } catch (err) {
      this.refuse(stream, `cannot prepare the command: ${errorMessage(err)}`);
      return;
    }
    this.run(stream, command, open);
  }

  /** Hangs up every command (the agent is closing). */
  closeAll(): void {
    for (const p of this.live) p.hangUp();
    this.live.clear();
    this.deps.dialer.close();
  }

  get running(): number {
    return this.live.size;
  }

  private refuse(stream: ExecStream, message: string): void {
    stream.write({ exit: { message, code: ErrorCodes.SESSION_NOT_RUNNING } });
    stream.end();
  }

  private run(stream: ExecStream, command: ExecCommand, open: OpenExec__Output): void {
    let exited = false;
    const backedUp = () => {
      proc.pauseOutput();
      stream.once('drain', () => proc.resumeOutput());
    };
    const proc = ExecProcess.start(this.deps.python, this.deps.helperPath, command, {
      stdout: (data) => void (stream.write({ stdout: data }) || backedUp()),
      stderr: (data) => void (stream.write({ stderr: data }) || backedUp()),
      exit: (r) => {
        exited = true;
        this.live.delete(proc);
        const code = r.message ? ErrorCodes.SPAWN_FAILED : '';
        stream.write({ exit: { ...(r.exitCode === null ? {} : { exitCode: r.exitCode }), signal: r.signal ?? '', message: r.message, code } });
        stream.end();
      },
    });
    this.live.add(proc);
    this.deps.logger.info('exec started', { session: open.session, rank: open.rank, tty: command.tty, argv0: command.argv[0] });
    stream.on('data', (f: ExecFrame__Output) => this.onFrame(f, proc, stream));
    const gone = () => {
      if (exited) return;
      exited = true;
      this.live.delete(proc);
      proc.hangUp();
    };
    stream.on('end', gone);
    stream.on('error', gone);
    stream.on('close', gone);
  }

  private onFrame(f: ExecFrame__Output, proc: ExecProcess, stream: ExecStream): void {
    if (f.body === 'stdin' && f.stdin) {
      if (!proc.write(f.stdin)) {
        stream.pause();
        proc.onDrain(() => stream.resume());
      }
    } else if (f.body === 'stdinEof') proc.endInput();
    else if (f.body === 'resize' && f.resize) proc.resize(f.resize.rows, f.resize.cols);
    else if (f.body === 'signal' && f.signal) proc.signal(f.signal);
  }
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import type { RunAsUser } from '../run-as/run-as-user.js';
import { encodeHelperFrame, HelperFrameDecoder, sizePayload } from './helper-frames.js';

/** agent/exec/exec-helper.py, beside this file in the source tree (dist/ has no .py files). */
export function execHelperPath(repoRoot: string): string {
  return join(repoRoot, 'agent', 'exec', 'exec-helper.py');
}

/** What to run, where, as whom. */
export interface ExecCommand {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Run as this account (agent/run-as); absent: the agent's own. */
  user?: RunAsUser;
  tty: boolean;
  rows: number;
  cols: number;
}

/** How the command ended; `message` set (and exitCode 126/127) when it could not start. */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  message: string;
}

export interface ExecOutput {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Once, last. */
  exit(result: ExecResult): void;
}

/**
 * One command run through the helper (a real PTY or pipes). Input goes down as frames; output
 * comes up through `out`. Closing the helper's stdin (`hangUp`) makes it SIGHUP, then SIGKILL,
 * the command's process group.
 */
export class ExecProcess {
  private readonly decoder = new HelperFrameDecoder();
  private ended = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly out: ExecOutput) {
    child.stdout.on('data', (chunk: Buffer) => this.onOutput(chunk));
    child.stderr.on('data', () => {}); // the helper's own tracebacks: nowhere to show them but its exit
    child.stdin.on('error', () => {}); // EPIPE once the helper is gone: its exit tells
    child.on('error', (err) => this.finish({ exitCode: 126, signal: null, message: `cannot start the exec helper: ${errorMessage(err)}` }));
    child.on('close', (code, signal) => {
      this.finish({ exitCode: null, signal: null, message: `the exec helper ended before the command did (exit ${code ?? signal})` });
    });
  }

  static start(python: string, helperPath: string, command: ExecCommand, out: ExecOutput): ExecProcess {
    const child = spawn(python, ['-S', helperPath], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const p = new ExecProcess(child, out);
    const config = { argv: command.argv, cwd: command.cwd, env: command.env, user: command.user ?? null, tty: command.tty, rows: command.rows, cols: command.cols };
    child.stdin.write(encodeHelperFrame('c', JSON.stringify(config)));
    return p;
  }

  /** Stdin bytes; false when the helper's input is backed up (wait for `onDrain`). */
  write(data: Buffer): boolean {
    return this.send(encodeHelperFrame('i', data));
  }

  onDrain(listener: () => void): void {
    this.child.stdin.once('drain', listener);
  }

  endInput(): void {
    this.send(encodeHelperFrame('E'));
  }

  resize(rows: number, cols: number): void {
    this.send(encodeHelperFrame('w', sizePayload(rows, cols)));
  }

  signal(name: string): void {
    this.send(encodeHelperFrame('k', name));
  }

  /** Stops reading output (the far side is backed up) until `resumeOutput`. */
  pauseOutput(): void {
    this.child.stdout.pause();
  }

  resumeOutput(): void {
    this.child.stdout.resume();
  }

  /** The caller went away: the command's group gets SIGHUP, then SIGKILL; no exit is reported. */
  hangUp(): void {
    this.ended = true;
    this.child.stdin.end();
  }

  private send(frame: Buffer): boolean {
    if (this.ended || this.child.stdin.destroyed) return true;
    return this.child.stdin.write(frame);
  }

  private onOutput(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.finish({ exitCode: null, signal: null, message: `the exec helper sent a bad frame: ${errorMessage(err)}` });
      this.hangUp();
      return;
    }
    for (const f of frames) {
      if (this.ended) return;
      if (f.type === 'o') this.out.stdout(f.payload);
      else if (f.type === 'e') this.out.stderr(f.payload);
      else if (f.type === 'x') this.finish(parseResult(f.payload));
    }
  }

  private finish(result: ExecResult): void {
    if (this.ended) return;
    this.ended = true;
    this.child.stdin.end();
    this.out.exit(result);
  }
}

function parseResult(payload: Buffer): ExecResult {
  try {
    const r = JSON.parse(payload.toString('utf8')) as Partial<ExecResult>;
    return {
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : null,
      signal: typeof r.signal === 'string' ? r.signal : null,
      message: typeof r.message === 'string' ? r.message : '',
    };
  } catch (err) {
    return { exitCode: null, signal: null, message: `the exec helper's exit frame is not JSON: ${errorMessage(err)}` };
  }
}

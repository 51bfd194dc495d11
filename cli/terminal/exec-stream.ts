import type * as grpc from '@grpc/grpc-js';
import { constants } from 'node:os';
import { ErrorCodes, NsmlError, isNsmlError } from '../../common/errors.js';
import type { ExecExit__Output } from '../../common/proto/generated/nsml/v1/ExecExit.js';
import type { ExecFrame, ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';
import type { CoordinatorClient } from '../client.js';
import { enterRawMode, type RawCapable } from './raw-mode.js';

/** The local ends of a terminal: the real process's streams, or fakes in tests. */
export interface TerminalIo {
  stdin: NodeJS.ReadableStream & RawCapable & { unref?(): unknown };
  stdout: NodeJS.WritableStream & { rows?: number; columns?: number };
  stderr: NodeJS.WritableStream;
  /** Registers a terminal-resize listener (SIGWINCH); returns its removal. */
  onResize(listener: () => void): () => void;
  term: string;
}

export function processTerminal(): TerminalIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    // A terminal's stdout emits 'resize' on SIGWINCH, after it read the new size.
    onResize: (listener) => {
      process.stdout.on('resize', listener);
      return () => void process.stdout.off('resize', listener);
    },
    term: process.env.TERM ?? '',
  };
}

export interface ExecRequest {
  session: string;
  rank: number;
  /** Empty: the session's interactive shell. */
  argv: string[];
  tty: boolean;
  /** Aborted on Ctrl-C or SIGTERM of this process (not in raw mode): sent on as that signal. */
  signal: AbortSignal;
}

/** 128 + the signal's number, as shells report a command killed by a signal. */
export function exitStatusOf(exit: ExecExit__Output): number {
  if (exit.exitCode !== undefined && exit.exitCode !== null) return exit.exitCode;
  const n = (constants.signals as Record<string, number>)[exit.signal];
  return n ? 128 + n : 1;
}

type ExecCall = grpc.ClientDuplexStream<ExecFrame, ExecFrame__Output>;

/**
 * Runs a command in a session through SessionService.Exec and resolves to its exit status:
 * stdin goes up (with -t as raw key presses), stdout and stderr come down byte for byte, the
 * terminal size goes up at start and on every resize. The local terminal is restored on every
 * path: the command's end, an error, a dropped connection.
 */
export async function runExec(client: CoordinatorClient, req: ExecRequest, io: TerminalIo): Promise<number> {
  await client.ready();
  const call: ExecCall = client.sessions.Exec(client.metadata());
  const size = () => ({ rows: io.stdout.rows ?? 24, cols: io.stdout.columns ?? 80 });
  call.write({ start: { session: req.session, rank: req.rank, argv: req.argv, tty: req.tty, size: req.tty ? size() : { rows: 0, cols: 0 }, term: io.term } });
  const raw = req.tty ? enterRawMode(io.stdin) : { restore: () => {} };
  return new Promise<number>((resolve, reject) => {
    let exit: ExecExit__Output | undefined;
    let settled = false;
    const onStdin = (chunk: Buffer) => {
      if (!call.write({ stdin: chunk })) {
        io.stdin.pause();
        call.once('drain', () => io.stdin.resume());
      }
    };
    const onStdinEnd = () => void call.write({ stdinEof: true });
    const offResize = req.tty ? io.onResize(() => void call.write({ resize: size() })) : () => {};
    const onAbort = () => {
      const reason: unknown = req.signal.reason;
      call.write({ signal: typeof reason === 'string' && reason.startsWith('SIG') ? reason : 'SIGINT' });
    };
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      raw.restore();
      offResize();
      req.signal.removeEventListener('abort', onAbort);
      io.stdin.off('data', onStdin);
      io.stdin.off('end', onStdinEnd);
      io.stdin.pause();
      io.stdin.unref?.();
      fn();
    };
    const write = (to: NodeJS.WritableStream, data: Buffer | undefined) => {
      if (data && data.length > 0 && !to.write(data)) {
        call.pause();
        to.once('drain', () => call.resume());
      }
    };
    call.on('data', (f: ExecFrame__Output) => {
      if (f.body === 'stdout') write(io.stdout, f.stdout);
      else if (f.body === 'stderr') write(io.stderr, f.stderr);
      else if (f.body === 'exit' && f.exit) exit = f.exit;
    });
    call.on('error', (err) => settle(() => reject(isNsmlError(err) ? err : client.toError(err))));
    call.on('end', () => settle(() => {
      if (!exit) {
        reject(new NsmlError(ErrorCodes.COORDINATOR_UNAVAILABLE, `the terminal into ${req.session} closed before the command ended; the command was hung up`));
        return;
      }
      if (exit.code === ErrorCodes.SESSION_NOT_RUNNING) {
        reject(new NsmlError(ErrorCodes.SESSION_NOT_RUNNING, exit.message));
        return;
      }
      if (exit.message) io.stderr.write(`nsml: ${exit.message}\n`);
      call.end();
      resolve(exitStatusOf(exit));
    }));
    req.signal.addEventListener('abort', onAbort);
    io.stdin.on('data', onStdin);
    io.stdin.on('end', onStdinEnd);
    io.stdin.resume();
  });
}

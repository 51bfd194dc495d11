/**
 * Starts a long-running nvidia-smi (`-lms N`) and hands its stdout line by line. The process
 * is killed with SIGKILL on stop; its exit is reported but never awaited by the caller.
 */
import { spawn } from 'node:child_process';

export interface SmiStreamHandlers {
  onLine(line: string): void;
  /** `missing` when the binary does not exist; otherwise the exit code or signal. */
  onExit(exit: { code: number | null; signal: string | null; missing?: boolean; error?: string }): void;
}

export interface SmiStream {
  readonly pid: number | undefined;
  kill(): void;
}

export interface SmiStreamSpawner {
  start(args: readonly string[], handlers: SmiStreamHandlers): SmiStream;
}

/** Lines longer than this are cut: a sample row is about 100 bytes. */
const MAX_LINE = 64 * 1024;

export function createProcessStreamSpawner(binary: string, env?: NodeJS.ProcessEnv): SmiStreamSpawner {
  return {
    start(args, handlers) {
      let ended = false;
      const end = (exit: Parameters<SmiStreamHandlers['onExit']>[0]) => {
        if (ended) return;
        ended = true;
        handlers.onExit(exit);
      };
      const child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
      const lines = lineSplitter(handlers.onLine);
      child.stdout?.on('data', lines);
      child.stderr?.on('data', lines);
      child.on('error', (err: NodeJS.ErrnoException) => end({ code: null, signal: null, missing: err.code === 'ENOENT', error: err.message }));
      child.on('close', (code, signal) => end({ code, signal }));
      return {
        pid: child.pid,
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    },
  };
}

function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE) {
      onLine(pending.slice(0, MAX_LINE));
      pending = '';
    }
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SDK_SRC = fileURLToPath(new URL('../../../sdk-python/src', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('.', import.meta.url));

export interface PythonRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout has a line equal to `line`. */
  line(line: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a fixture script with the real SDK on PYTHONPATH and the given NSML_* environment. */
export function runPython(script: string, args: string[], env: Record<string, string>, cwd: string): PythonRun {
  const child = spawn('python3', [FIXTURES + script, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: SDK_SRC, PYTHONUNBUFFERED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out += t;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    err += t;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    async line(line: string) {
      while (!out.split('\n').includes(line)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before "${line}": ${err}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../common/proto/load.js';
import { sleep } from '../../common/sleep.js';

/** The `nsml` entry script that background processes run. */
export function nsmlBin(): string {
  return join(repoRoot(), 'bin', 'nsml.js');
}

/**
 * Starts `node bin/nsml.js ARGS` detached from this terminal (its own session), with stdout and
 * stderr appended to `logFile`; returns its pid. The child outlives this process.
 */
export function spawnDetached(args: string[], logFile: string, env: NodeJS.ProcessEnv): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [nsmlBin(), ...args], { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePid(file: string, pid: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * True when `pid` runs and (where /proc tells) is an nsml process, so a pid file left by a
 * crash never makes us signal an unrelated process that reused the number.
 */
export function isNsmlProcess(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('nsml');
  } catch {
    return true;
  }
}

/** SIGTERM, wait up to `graceMs` for the exit, then SIGKILL. Resolves true if it was running. */
export async function stopProcess(pid: number | undefined, graceMs: number): Promise<boolean> {
  if (!isNsmlProcess(pid)) return false;
  signal(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!isNsmlProcess(pid)) return true;
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  const killedBy = Date.now() + 5_000;
  while (isNsmlProcess(pid) && Date.now() < killedBy) await sleep(50);
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** The last lines of a log file, to explain why a background process died. */
export function tailFile(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

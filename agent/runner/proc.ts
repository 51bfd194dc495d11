import { readFileSync } from 'node:fs';

/**
 * A process as the kernel knows it: its pid and when it started. A pid alone is not an
 * identity (pids are reused); the pair is. On systems without /proc the start time is
 * unknown and only liveness is checked.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks: string | null;
}

interface ProcStat {
  state: string;
  pgrp: number;
  startTicks: string;
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  if (fields.length < 20) return undefined;
  return { state: fields[0]!, pgrp: Number(fields[2]), startTicks: fields[19]! };
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function hasProcFs(): boolean {
  return readProcStat(process.pid) !== undefined;
}

const PROC_FS = hasProcFs();

function signalZeroAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `who` still runs: same pid, same start time, and not a zombie. */
export function isAlive(who: ProcessIdentity): boolean {
  if (!Number.isInteger(who.pid) || who.pid <= 0) return false;
  if (!PROC_FS) return signalZeroAlive(who.pid);
  const stat = readProcStat(who.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return who.startTicks === null || stat.startTicks === who.startTicks;
}

/** Sends `signal` to every process of the group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to one process if it is still `who`; false otherwise. */
export function signalProcess(who: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isAlive(who)) return false;
  try {
    process.kill(who.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The process group of `pid`, or undefined when unknown. */
export function processGroupOf(pid: number): number | undefined {
  return readProcStat(pid)?.pgrp;
}

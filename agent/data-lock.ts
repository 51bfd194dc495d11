import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NsmlError } from '../common/errors.js';
import { isAlive, readProcStat, type ProcessIdentity } from './runner/proc.js';
import { writeJsonAtomic } from './runner/session-dir.js';

/**
 * One agent per data folder: two would both adopt the same sessions. The lock file names the
 * holder by pid and start time, so the lock of a killed agent is taken over, never honoured.
 */
export class DataLock {
  private constructor(private readonly path: string, private readonly me: ProcessIdentity) {}

  static acquire(dataDir: string): DataLock {
    const path = join(dataDir, 'agent.lock');
    const me = { pid: process.pid, startTicks: readProcStat(process.pid)?.startTicks ?? null };
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      return new DataLock(path, me);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder && isAlive(holder)) {
      throw new NsmlError(
        ErrorCodes.STATE_DIR,
        `another agent (pid ${holder.pid}) is using ${dataDir}; stop it first, or give this agent another data folder (--data)`,
      );
    }
    writeJsonAtomic(path, me);
    return new DataLock(path, me);
  }

  release(): void {
    const holder = readHolder(this.path);
    if (holder?.pid === this.me.pid && holder.startTicks === this.me.startTicks) rmSync(this.path, { force: true });
  }
}

function readHolder(path: string): ProcessIdentity | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<ProcessIdentity>;
    return typeof h.pid === 'number' ? { pid: h.pid, startTicks: h.startTicks ?? null } : undefined;
  } catch {
    return undefined;
  }
}

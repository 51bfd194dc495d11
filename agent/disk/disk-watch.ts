import { statfsSync } from 'node:fs';
import { sep } from 'node:path';
import { ErrorCodes, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { DiskState } from '../../common/proto/types.js';
import { diskFullChannel, type DiskFullEvent } from './disk-errors.js';
import { deferredWriteCount, retryDeferredWrites } from './soft-writes.js';

const MIB = 1024 * 1024;

export interface DiskWatchOptions {
  /** The agent's data directory. */
  dir: string;
  /** Below this many free bytes the node takes nothing new. */
  minFreeBytes: number;
  logger: Logger;
  /** Free bytes of the file system holding `dir`; default statfs. */
  freeBytes?: (dir: string) => number;
}

function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Whether the agent's data directory has room, for every heartbeat. Full means: free space is
 * below `minFreeBytes`, or a write of the agent under `dir` failed for lack of room (published on
 * `diskFullChannel`) and has not been written since. While there is room, writes that were
 * deferred for lack of it are retried here.
 */
export class DiskWatch {
  private failedWrite: string | undefined;
  private full = false;
  private readonly onEvent = (message: unknown) => {
    const e = message as DiskFullEvent;
    if (e.path === this.o.dir || e.path.startsWith(this.o.dir + sep)) this.failedWrite = `${e.path}: ${errorMessage(e.error)}`;
  };

  constructor(private readonly o: DiskWatchOptions) {
    diskFullChannel.subscribe(this.onEvent);
  }

  /** Checks now (statfs, then deferred writes when there is room) and returns the heartbeat's state. */
  check(): DiskState {
    let free: number | undefined;
    try {
      free = (this.o.freeBytes ?? statfsFree)(this.o.dir);
    } catch (err) {
      this.o.logger.warn('cannot read the free space of the data directory', { dir: this.o.dir, error: errorMessage(err) });
    }
    const low = free !== undefined && free < this.o.minFreeBytes;
    if (!low && (this.failedWrite !== undefined || deferredWriteCount() > 0)) {
      if (retryDeferredWrites() === 0) this.failedWrite = undefined;
    }
    const freeMib = free === undefined ? 0 : Math.floor(free / MIB);
    const message = low
      ? `${ErrorCodes.DISK_FULL}: the agent's data directory ${this.o.dir} has ${freeMib} MiB free, below --min-free ${Math.ceil(this.o.minFreeBytes / MIB)} MiB; free space on it (nothing new is placed on this node meanwhile)`
      : this.failedWrite !== undefined
        ? `${ErrorCodes.DISK_FULL}: a write in the agent's data directory found no room (${this.failedWrite}); free space on it (nothing new is placed on this node meanwhile)`
        : '';
    this.transition(message !== '', message, freeMib);
    return { full: message !== '', freeMib, message };
  }

  close(): void {
    diskFullChannel.unsubscribe(this.onEvent);
  }

  private transition(full: boolean, message: string, freeMib: number): void {
    if (full === this.full) return;
    this.full = full;
    if (full) this.o.logger.error('data directory full: reporting the node full', { dir: this.o.dir, freeMib, message });
    else this.o.logger.info('data directory has room again', { dir: this.o.dir, freeMib });
  }
}

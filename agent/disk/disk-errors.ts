import diagnosticsChannel from 'node:diagnostics_channel';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';

/** Errno codes that mean "no room": the file system or the user's quota is full. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** True for ENOSPC/EDQUOT (or an NSML_E_DISK_FULL), looking through `cause` chains. */
export function isDiskFullError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (FULL_CODES.has(code) || code === ErrorCodes.DISK_FULL)) return true;
  }
  return false;
}

/** A disk-full error as an NsmlError that says where and what to do. */
export function diskFullError(what: string, err: unknown): NsmlError {
  if (err instanceof NsmlError && err.code === ErrorCodes.DISK_FULL) return err;
  return new NsmlError(ErrorCodes.DISK_FULL, `no space left to write ${what} (${errorMessage(err)}); free space on the agent's data directory`, { cause: err });
}

/**
 * Every write of the agent that failed for lack of room is published here (`{ path, error }`),
 * so that the disk watch flags the node without each writer knowing about it.
 */
export const diskFullChannel = diagnosticsChannel.channel('nsml:agent:disk-full');

export interface DiskFullEvent {
  path: string;
  error: unknown;
}

/** Publishes a failed write when it was for lack of room; returns whether it was. */
export function noteDiskFull(path: string, err: unknown): boolean {
  if (!isDiskFullError(err)) return false;
  if (diskFullChannel.hasSubscribers) diskFullChannel.publish({ path, error: err } satisfies DiskFullEvent);
  return true;
}

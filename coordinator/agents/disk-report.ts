/**
 * Disk-full nodes: each agent reports, at every heartbeat, the state of its data directory's file
 * system. A full one is stored on the node (`nsml node ls` shows it `disk-full` with the agent's
 * NSML_E_DISK_FULL message) and the scheduler places nothing new there until the agent reports
 * room again.
 */
import { ErrorCodes } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { DiskState__Output } from '../../common/proto/types.js';
import type { Store } from '../store/types.js';

export interface DiskReportDeps {
  store: Pick<Store, 'getNode' | 'updateNode'>;
  scheduler: { request(): void };
  logger: Logger;
}

/** The message stored for a full disk: the agent's, else a generic one; '' when not full. */
export function diskFullMessage(nodeId: string, disk: DiskState__Output): string {
  if (!disk.full) return '';
  if (disk.message.startsWith(ErrorCodes.DISK_FULL)) return disk.message;
  return `${ErrorCodes.DISK_FULL}: node ${nodeId} reports its data directory full (${disk.freeMib} MiB free)${disk.message ? `: ${disk.message}` : ''}; free space on it`;
}

/** Records one heartbeat's disk state; writes only when it changes. */
export function applyDiskReport(deps: DiskReportDeps, nodeId: string, disk: DiskState__Output | null | undefined): void {
  if (!disk) return;
  const message = diskFullMessage(nodeId, disk);
  const node = deps.store.getNode(nodeId);
  if (!node || node.diskFull === message) return;
  deps.store.updateNode(nodeId, { diskFull: message });
  if (message) deps.logger.warn('node disk full: nothing new is placed there', { nodeId, freeMib: disk.freeMib, message });
  else deps.logger.info('node disk has room again', { nodeId, freeMib: disk.freeMib });
  deps.scheduler.request();
}

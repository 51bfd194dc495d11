import type { CoordinatorMessage } from '../../common/proto/types.js';

/**
 * What a state change must do once its transaction has committed: messages down agent streams,
 * sessions whose watchers to wake, and whether resources were freed (a scheduling pass is due).
 */
export class Effects {
  readonly messages: Array<[string, CoordinatorMessage]> = [];
  readonly changed = new Set<string>();
  reschedule = false;

  send(nodeId: string, message: CoordinatorMessage): void {
    this.messages.push([nodeId, message]);
  }

  /** `checkpoint`: ask the script to save (its bound save) before SIGTERM, as a preemption does. */
  stop(nodeId: string, session: string, epoch: number, graceMs: number, reason: string, checkpoint = false): void {
    this.send(nodeId, { stop: { session, epoch, graceMs, reason, checkpoint } });
  }
}

import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type {
  BridgeHandler, CheckpointLoadRequest, CheckpointLoadResult, CheckpointSaveRequest, CheckpointSaveResult,
} from '../bridge/handler.js';
import type { BridgeEvent, CommandResult, MetricBatch } from '../bridge/protocol.js';
import type { Logger } from '../../common/log.js';
import type { RankKey } from '../runner/rank-spec.js';
import { appendJournal, journalLine } from '../uplink/journal-writer.js';

/** Saving and loading the checkpoints of one rank (agent/checkpoints). */
export interface RankCheckpoints {
  save(request: CheckpointSaveRequest): Promise<CheckpointSaveResult>;
  load(request: CheckpointLoadRequest): Promise<CheckpointLoadResult>;
  /** Called once the rank's bridge closed. */
  close?(): void;
}

/** What checkpoints need to know of the rank they serve. */
export interface RankIdentity extends RankKey {
  user: string;
  checkpointDir: string;
}

export type CheckpointsFactory = (rank: RankIdentity) => RankCheckpoints;

export function checkpointsUnavailable(): NsmlError {
  return new NsmlError(ErrorCodes.AGENT_UNAVAILABLE, 'checkpoints are not available on this agent yet');
}

/**
 * The bridge handler of one rank: metrics, events and command results that come over the socket
 * (from an SDK that does not write the journal itself) are appended to the rank's telemetry
 * journal, which agent/uplink ships; checkpoints go to agent/checkpoints, or are refused while
 * this agent has none.
 */
export class RankHandler implements BridgeHandler {
  /** Commands the agent itself sent (not the coordinator's): their results stay here. */
  private readonly own = new Map<string, (result: CommandResult | undefined) => void>();

  constructor(
    private readonly id: RankKey,
    private readonly journal: string,
    private readonly checkpoints: RankCheckpoints | undefined,
    private readonly logger: Logger,
  ) {}

  onMetrics(batch: MetricBatch): void {
    if (batch.records.length === 0 && batch.dropped === 0) return;
    this.append({ type: 'metrics', batch });
  }

  onEvent(event: BridgeEvent): void {
    this.append({ type: 'event', event });
  }

  onCommandResult(result: CommandResult): void {
    if (!this.takeOwn(result)) this.append({ type: 'result', result });
  }

  /** A result of a command the agent itself sent: handed to its waiter (true), never shipped. */
  takeOwn(result: CommandResult): boolean {
    const waiter = this.own.get(result.id);
    if (!waiter) return false;
    this.own.delete(result.id);
    waiter(result);
    return true;
  }

  private append(message: Parameters<typeof journalLine>[0]): void {
    try {
      appendJournal(this.journal, journalLine(message));
    } catch (err) {
      this.logger.error('cannot append to the telemetry journal', { session: this.id.session, rank: this.id.rank, error: errorMessage(err) });
    }
  }

  /**
   * Waits for the result of a command the agent itself sent to the script (its result is not
   * shipped to the coordinator, which never queued it); undefined when the rank's bridge closes first.
   */
  ownResult(id: string): Promise<CommandResult | undefined> {
    return new Promise((resolve) => this.own.set(id, resolve));
  }

  /** Stops waiting for an own command's result; one that comes later is dropped. */
  forgetOwn(id: string): void {
    if (this.own.has(id)) this.own.set(id, () => {});
  }

  saveCheckpoint(request: CheckpointSaveRequest): Promise<CheckpointSaveResult> {
    return this.checkpoints ? this.checkpoints.save(request) : Promise.reject(checkpointsUnavailable());
  }

  loadCheckpoint(request: CheckpointLoadRequest): Promise<CheckpointLoadResult> {
    return this.checkpoints ? this.checkpoints.load(request) : Promise.reject(checkpointsUnavailable());
  }

  /** The rank ended: lets go of what its checkpoints held. */
  close(): void {
    for (const waiter of this.own.values()) waiter(undefined);
    this.own.clear();
    this.checkpoints?.close?.();
  }
}

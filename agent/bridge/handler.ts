import type { BridgeEvent, BridgePeer, CommandResult, MetricBatch } from './protocol.js';
import type { CheckpointFile } from './checkpoint-files.js';

/** A checkpoint to upload and register: from the SDK's `save`, or written by a framework. */
export interface CheckpointSaveRequest {
  /** The checkpoint name (already validated); a checkpoint of the same name is replaced. */
  name: string;
  source: 'sdk' | 'watcher';
  /** The directory the files are in (for logs; read the files through `files`). */
  dir: string;
  /** Every regular file, with its manifest path (e.g. `model` or `model/w.pt`). Symlinks are skipped. */
  files: CheckpointFile[];
  /** The latest `summary=True` metric values, for the checkpoint list. */
  summary: Record<string, number>;
}

export interface CheckpointSaveResult {
  files: number;
  bytes: number;
  /** Bytes actually sent to the blob service (0 when every file was already there). */
  uploadedBytes: number;
}

export interface CheckpointLoadRequest {
  /** `null`: the session this bridge serves. */
  session: string | null;
  name: string;
}

export interface CheckpointLoadResult {
  /** A local directory holding the checkpoint's files; the SDK calls back with `dir/model`. */
  dir: string;
}

/**
 * What the agent does with what the script sends. Implemented by the agent's wiring (coordinator
 * stream, blob service, caches). The sync callbacks must not throw (a throw is logged and counted);
 * `saveCheckpoint`/`loadCheckpoint` reject with an `NsmlError` whose code and message reach the script
 * (`NSML_E_NOT_FOUND` with `details.existing: string[]` for a missing checkpoint).
 */
export interface BridgeHandler {
  onMetrics(batch: MetricBatch, peer: BridgePeer): void;
  onEvent(event: BridgeEvent, peer: BridgePeer): void;
  onCommandResult(result: CommandResult, peer: BridgePeer): void;
  /** Resolves once the manifest is uploaded and the checkpoint registered. */
  saveCheckpoint(request: CheckpointSaveRequest): Promise<CheckpointSaveResult>;
  loadCheckpoint(request: CheckpointLoadRequest): Promise<CheckpointLoadResult>;
  /** Optional: a connection said hello, or closed (with the reason when the agent closed it). */
  onConnection?(peer: BridgePeer, state: 'open' | 'closed', reason?: string): void;
}

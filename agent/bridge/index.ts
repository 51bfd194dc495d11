/** The agent's side of the SDK socket (proto/sdk-bridge.md). */
export { startBridgeServer, compileBridgeServerOptions } from './bridge-server.js';
export type { BridgeServer, BridgeServerOptions, BridgeStatus, BridgeState } from './bridge-server.js';
export type { BridgeHandler, CheckpointSaveRequest, CheckpointSaveResult, CheckpointLoadRequest, CheckpointLoadResult } from './handler.js';
export { startCheckpointWatcher } from './checkpoint-watcher.js';
export type { CheckpointWatcher, CheckpointWatcherOptions, WatcherEvent } from './checkpoint-watcher.js';
export { listCheckpointFiles, type CheckpointFile, type CheckpointListing } from './checkpoint-files.js';
export { MemoryBridgeHandler, type StoredCheckpoint } from './memory-handler.js';
export { parseControlWords, validateCommand } from './validate-command.js';
export { PAYLOAD_NAME } from './payload.js';
export * from './protocol.js';

/** The SDK side of every rank on this node, wired to the coordinator stream (see README.md). */
export { SessionBridges, type SaveOutcome, type SessionBridgesOptions, type SessionBridgesStatus } from './session-bridges.js';
export { RankHandler, checkpointsUnavailable, type CheckpointsFactory, type RankCheckpoints, type RankIdentity } from './rank-handler.js';

import type { UserTable } from '../auth/user-table.js';
import type { NodeInventory__Output } from '../../common/proto/types.js';
import type { CheckpointTable } from '../checkpoints/checkpoint-table.js';
import type { CommandTable } from '../commands/types.js';
import type { DatasetTable } from '../datasets/dataset-table.js';
import type { MetricTable } from '../metrics/types.js';
import type { BlobRootMethods } from './blob-roots.js';
import type { SessionRemovalMethods } from './session-removal.js';
import type { SubmitRequestTable } from '../sessions/submit-request-table.js';
import type { LineageTable } from '../sessions/lineage-table.js';

export type SessionState =
  | 'queued' | 'scheduled' | 'starting' | 'running'
  | 'succeeded' | 'failed' | 'stopped' | 'preempted' | 'lost';

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'stopped', 'preempted', 'lost']);
/** States in which a session holds its placement. */
export const ACTIVE_STATES: readonly SessionState[] = ['scheduled', 'starting', 'running'];

export function isTerminal(state: string): boolean {
  return TERMINAL_STATES.has(state);
}

/** One rank's progress: start not sent yet, sent, then as the agent reports it. */
export type RankState = 'pending' | 'sent' | 'starting' | 'running' | 'exited';

/** What a user asked for. */
export interface NewSession {
  user: string;
  dataset: string;
  gpus: number;
  gpusPerNode: number;
  cpus: number;
  memoryMib: number;
  entry: string;
  args: string[];
  env: Record<string, string>;
  memo: string;
  workspace: string;
  priority: number;
  timeLimitS: number;
  /** Python version, image and /dev/shm size asked for (common/session-runtime.ts); absent: the node's defaults. */
  runtime?: { python: string; image: string; shmSizeMib: number };
}

export interface SessionRow extends NewSession {
  name: string;
  n: number;
  /** Submission order. */
  seq: number;
  state: SessionState;
  reason: string;
  createdMs: number;
  startedMs: number;
  endedMs: number;
  exitCode: number | undefined;
  epoch: number;
  masterPort: number;
  /** When a user asked to stop it, or it was asked to stop for a preemption; 0 when nobody did. */
  stopRequestedMs: number;
  stopGraceMs: number;
  /** When it last entered the queue: creation, or the requeue after a preemption. */
  queuedMs: number;
  /** When its current run was placed; 0 while queued. */
  placedMs: number;
  /** GPU-milliseconds of service in its earlier runs (runs that ended in a preemption). */
  attainedGpuMs: number;
  /** While a preemption stops it: the session it makes room for; '' otherwise. */
  preemptedFor: string;
  /** Times it was preempted and requeued. */
  preemptions: number;
  /** Every node that runs it reports its GPUs at 0 % for the agents' idle window. */
  idle: boolean;
}

export type SessionPatch = Partial<Pick<SessionRow,
  'state' | 'reason' | 'startedMs' | 'endedMs' | 'exitCode' | 'epoch' | 'masterPort' | 'stopRequestedMs' | 'stopGraceMs'
  | 'queuedMs' | 'placedMs' | 'attainedGpuMs' | 'preemptedFor' | 'preemptions' | 'idle'>>;

/** A user's decayed GPU usage for fair share, as of `updatedMs`. */
export interface UsageRow {
  user: string;
  gpuSeconds: number;
  updatedMs: number;
}

/** A finished run of a session, for learning run times. */
export interface FinishedRun {
  user: string;
  dataset: string;
  entry: string;
  state: string;
  /** End of its last run minus that run's placement (or first start). */
  durationMs: number;
  endedMs: number;
}

export interface SessionEventRow {
  tsMs: number;
  state: string;
  reason: string;
}

export interface AssignmentRow {
  session: string;
  epoch: number;
  nodeId: string;
  rank: number;
  gpuIndices: number[];
  state: RankState;
  exitCode: number | undefined;
  signal: string;
  message: string;
}

export type RankPatch = Partial<Pick<AssignmentRow, 'state' | 'exitCode' | 'signal' | 'message'>>;

export type NodeState = 'ready' | 'down';

export interface NodeRow {
  id: string;
  inventory: NodeInventory__Output;
  state: NodeState;
  draining: boolean;
  reason: string;
  lastHeartbeatMs: number;
  joinedMs: number;
  /** '' while the agent has room; else its NSML_E_DISK_FULL message (nothing new is placed there). */
  diskFull: string;
}

export type NodePatch = Partial<Pick<NodeRow, 'state' | 'draining' | 'reason' | 'lastHeartbeatMs' | 'diskFull'>>;

export interface StoredLogLine {
  cursor: number;
  session: string;
  epoch: number;
  rank: number;
  seq: number;
  tsMs: number;
  stream: string;
  text: string;
}

export type NewLogLine = Pick<StoredLogLine, 'seq' | 'tsMs' | 'stream' | 'text'>;

export interface LogAckRow {
  session: string;
  rank: number;
  seq: number;
}

export interface ListSessionsQuery {
  /** Only this user's sessions; undefined for every user. */
  user?: string;
  /** Only these states; undefined for all. */
  states?: readonly string[];
  /** Only sessions named after this dataset; undefined for any. */
  dataset?: string;
  limit: number;
}

/**
 * The coordinator's durable state. Every method is synchronous; a method that changes several
 * rows does it in one transaction, and `transaction` groups several calls into one.
 */
export interface Store extends BlobRootMethods, SessionRemovalMethods {
  transaction<T>(fn: () => T): T;

  insertSession(session: NewSession, nowMs: number, reason: string): SessionRow;
  getSession(name: string): SessionRow | undefined;
  /** Newest first. */
  listSessions(query: ListSessionsQuery): SessionRow[];
  /** In submission order. */
  sessionsInStates(states: readonly string[]): SessionRow[];
  countInStates(states: readonly string[]): number;
  /** How many sessions each user has in each state (for /metrics); one row per pair that has any. */
  countByStateAndUser(): Array<{ state: string; user: string; count: number }>;
  updateSession(name: string, patch: SessionPatch): void;
  addEvent(name: string, tsMs: number, state: string, reason: string): void;
  events(name: string): SessionEventRow[];

  insertAssignments(rows: AssignmentRow[]): void;
  assignments(session: string, epoch: number): AssignmentRow[];
  /** The current placement of every session that holds one (scheduled, starting, running). */
  activeAssignments(): AssignmentRow[];
  updateRank(session: string, epoch: number, rank: number, patch: RankPatch): void;

  upsertNode(id: string, inventory: NodeInventory__Output, nowMs: number): NodeRow;
  getNode(id: string): NodeRow | undefined;
  listNodes(): NodeRow[];
  /** Ids and states only: cheap enough for a timer that runs every second. */
  nodeStates(): Array<{ id: string; state: NodeState }>;
  updateNode(id: string, patch: NodePatch): void;
  recordHeartbeats(beats: ReadonlyArray<readonly [string, number]>): void;
  /** The SHA-256 (hex) of the node's secret; '' when none was issued; undefined for an unknown node. */
  nodeSecretHash(id: string): string | undefined;
  /** Binds a registered node id to a secret; only its hash is stored. */
  setNodeSecretHash(id: string, hash: string): void;
  /** The node whose secret has this hash (a node authenticating a call), if any. */
  nodeBySecretHash(hash: string): string | undefined;
  /** Removes the node and its credential; false when there was none. */
  forgetNode(id: string): boolean;

  /** Stores lines idempotently (a repeated seq is ignored); returns the new lines and the gapless high-water seq. */
  insertLogs(session: string, epoch: number, rank: number, lines: NewLogLine[]): { inserted: StoredLogLine[]; ackSeq: number };
  /** Lines after `afterCursor` in cursor order; rank -1 for every rank. */
  readLogs(session: string, afterCursor: number, rank: number, limit: number): StoredLogLine[];
  /** The cursor after which the last `lines` lines of the session (rank -1: every rank) begin; 0 when it has no more. */
  logTailStart(session: string, rank: number, lines: number): number;
  /** For each current-epoch rank on this node that has not exited: the highest gapless seq stored. */
  logAcksForNode(nodeId: string, sinceMs: number): LogAckRow[];

  /** Every user's stored decayed GPU usage. */
  usage(): UsageRow[];
  /** Inserts or replaces these users' usage. */
  saveUsage(rows: readonly UsageRow[]): void;
  /** The newest `limit` succeeded sessions of `user` with this dataset and entry, newest first. */
  succeededRuns(user: string, dataset: string, entry: string, limit: number): FinishedRun[];

  /** Datasets, their versions and the versions sessions pinned (coordinator/datasets). */
  readonly datasets: DatasetTable;

  /** Checkpoints of sessions and each session's last checkpoint time (coordinator/checkpoints). */
  readonly checkpoints: CheckpointTable;

  /** Metric points, the metric timeline and session summaries (coordinator/metrics). */
  readonly metrics: MetricTable;

  /** Operator commands and their delivery to ranks (coordinator/commands). */
  readonly commands: CommandTable;

  /** Submit request ids and the sessions they created (idempotent submit, coordinator/sessions). */
  readonly submitRequests: SubmitRequestTable;

  /** The parent and checkpoint of forked and resumed sessions (coordinator/sessions). */
  readonly lineage: LineageTable;

  /** Users, token hashes, session shares and blob uploaders (coordinator/auth). */
  readonly users: UserTable;

  close(): void;
}

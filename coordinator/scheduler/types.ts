/**
 * The scheduler's world: a snapshot in, a plan out. Nothing here does I/O or reads a clock;
 * the coordinator builds the snapshot from its store, and the simulator builds it from a trace.
 */

/** A node as the scheduler sees it. GPU indices are node-local. */
export interface NodeView {
  id: string;
  /** Every GPU index the node has (healthy or not). */
  gpus: number[];
  /** GPUs the scheduler must not use: quarantined, lost, or held by a foreign process. */
  unusableGpus: number[];
  /** 0 = unknown: not limited. */
  cpus: number;
  /** 0 = unknown: not limited. */
  memoryMib: number;
  /** False while draining or disconnected: nothing new goes there. */
  schedulable: boolean;
  /** Datasets (NAME@V) the node holds in its cache, for locality. */
  datasets?: string[];
  /**
   * What the node offers sessions beyond GPUs, CPUs and memory, as plain tags (`python3`,
   * `python3.11`, `python3.11.7`, `containers`); absent = nothing. The snapshot builder does
   * any matching (a version's prefixes become tags), so the scheduler only compares strings.
   */
  offers?: string[];
}

/** A session waiting for placement. */
export interface PendingSession {
  id: string;
  user: string;
  /** Total GPUs; 0 runs on CPU only. */
  gpus: number;
  /** 0: the scheduler decides (one node if it fits there, else whole nodes). */
  gpusPerNode: number;
  /** CPUs per process. */
  cpus: number;
  /** Memory per process, MiB (0 = no reservation). */
  memoryMib: number;
  priority: number;
  submittedAtMs: number;
  /** Declared (or learned) run time, ms; absent when unknown. */
  expectedDurationMs?: number;
  /** Where `expectedDurationMs` came from: `nsml run --time`, or learned from earlier sessions. */
  expectedDurationSource?: 'declared' | 'learned';
  datasets?: string[];
  /** GPU-milliseconds of service received in earlier runs (a preempted, requeued session). */
  attainedGpuMs?: number;
  /** When it last entered the queue: `submittedAtMs`, or the time it was requeued after preemption. */
  queuedAtMs?: number;
  /** Tags every node of its placement must offer (`NodeView.offers`), e.g. `python3.11`, `containers`; absent or empty = any node. */
  needs?: string[];
}

/** One process of a placed session on one node. */
export interface NodeAssignment {
  nodeId: string;
  gpuIndices: number[];
  rank: number;
}

/** A session that holds resources now (scheduled, starting or running). */
export interface RunningSession {
  id: string;
  user: string;
  gpus: number;
  cpus: number;
  memoryMib: number;
  priority: number;
  startedAtMs: number;
  assignments: NodeAssignment[];
  expectedDurationMs?: number;
  lastCheckpointAtMs?: number;
  /** True once asked to stop or checkpoint for preemption: its resources free soon. */
  stopping?: boolean;
  submittedAtMs?: number;
  /** When it last entered the queue before this run (see PendingSession.queuedAtMs). */
  queuedAtMs?: number;
  /** GPU-milliseconds of service received in runs before this one. */
  attainedGpuMs?: number;
  /** False when the session must never be preempted (default: preemptible). */
  preemptible?: boolean;
}

export interface Snapshot {
  nodes: NodeView[];
  /** In submission order. */
  pending: PendingSession[];
  running: RunningSession[];
  /** Decayed past usage per user, in GPU-seconds, for fair share (see fair-share.ts). */
  usageByUser?: Record<string, number>;
  /** Relative fair-share weight per user; a user not listed has weight 1. */
  sharesByUser?: Record<string, number>;
}

export interface Placement {
  sessionId: string;
  assignments: NodeAssignment[];
}

export interface Preemption {
  sessionId: string;
  /** The pending session that needs the victim's resources. */
  forSessionId: string;
  reason: string;
  /** GPU-milliseconds of work the victim loses if it cannot save: GPUs × time since its last checkpoint. */
  lostGpuMs?: number;
}

/** Nodes held for a blocked session: nothing that could delay its start may use them. */
export interface Reservation {
  sessionId: string;
  nodeIds: string[];
  /** When the session is expected to start there; absent when unknown (running durations unknown). */
  startAtMs?: number;
  /** True when the nodes are being freed by preemption. */
  preempting?: boolean;
}

/** Why a pending session was not placed in this round, in words a user can act on. */
export interface WaitReason {
  sessionId: string;
  kind: 'resources' | 'fragmentation' | 'priority' | 'fair-share' | 'reservation' | 'quarantine' | 'no-fit';
  message: string;
  /** The session it waits for, where one is to blame (a reservation holder, a higher-priority head). */
  blockedBy?: string;
}

export interface Plan {
  placements: Placement[];
  preemptions: Preemption[];
  waiting: WaitReason[];
  /** Nodes held for blocked sessions this round. */
  reservations?: Reservation[];
  /** Every pending session id in the policy's order (the order `nsml queue` lists). */
  order?: string[];
  /** The next time the policy wants to be asked again even if nothing happens (an ageing threshold). */
  wakeAtMs?: number;
}

/** A scheduling policy: pure. */
export type Decide = (snapshot: Snapshot, nowMs: number) => Plan;

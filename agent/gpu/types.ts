import type { GpuInfo } from '../../common/proto/types.js';
import type { SessionResolver } from './session-owner.js';
import type { SmiRunner } from './smi-runner.js';
import type { SmiStreamSpawner } from './smi-stream.js';
import type { SamplerStatus, SamplingStrategy } from './usage-sampler.js';

/** What the probe knows about this node's GPUs at one moment. */
export interface GpuState {
  gpus: GpuInfo[];
  /** A node-level failure (driver not loaded, version mismatch, hang), with the driver's words. */
  error?: string;
  /** Not an error: why there are no GPUs (no nvidia-smi on PATH, no devices). */
  notice?: string;
  driverVersion?: string;
  cudaVersion?: string;
  /** When the last inventory/health check finished (epoch ms); absent before the first. */
  checkedAtMs?: number;
}

/** The agent's view of its GPUs. The agent calls `read()` at registration and for heartbeats. */
export interface GpuProbe {
  /** Never throws and never hangs past the probe's timeout; failures land in `error`. */
  read(): Promise<GpuState>;
  /** Stops any background sampling. */
  close(): void;
  /** The check before a session starts (see NodeGpuProbe); a probe without it checks nothing. */
  checkFree?(indices: readonly number[]): Promise<{ foreign: ForeignHolder[]; error?: string }>;
}

/** A foreign process found on a GPU just before a session was to start there. */
export interface ForeignHolder {
  index: number;
  uuid: string;
  pid: number;
  name: string;
  usedMemoryMib?: number;
}

export interface ProbeStatus {
  state: 'starting' | 'running' | 'closed';
  inventories: number;
  inventoryFailures: number;
  lastError?: string;
  sampler?: SamplerStatus;
  /** nvidia-smi calls that were killed for hanging and have not exited yet. */
  stuckCalls: number;
}

/** What createGpuProbe returns: GpuProbe plus checks the agent may use. */
export interface NodeGpuProbe extends GpuProbe {
  /** Runs an inventory and health check now (joins one in flight) and returns the new state. */
  refresh(): Promise<GpuState>;
  /**
   * Before a session starts on `indices`: re-reads the GPU processes now and returns the
   * foreign ones (also reported in the next read()). `error` when the check itself failed.
   */
  checkFree(indices: readonly number[]): Promise<{ foreign: ForeignHolder[]; error?: string }>;
  getStatus(): ProbeStatus;
  /** The same as close(): close() already kills every nvidia-smi the probe started. */
  destroy(): void;
}

export type ProbeEvent =
  | { type: 'inventory'; gpus: number; error?: string }
  | { type: 'health-changed'; index: number; uuid: string; health: string; reason: string }
  | { type: 'sampler'; message: string; kind: string };

export interface GpuProbeOptions {
  /** The nvidia-smi binary; default `NSML_NVIDIA_SMI` or `nvidia-smi` on PATH. */
  nvidiaSmi?: string;
  /** Only these node-local GPU indices are used (`--gpus`); default all (or CUDA_VISIBLE_DEVICES). */
  gpus?: number[];
  /** Per nvidia-smi call; a call that takes longer is killed and reported. Default 10 s. */
  timeoutMs?: number;
  /** Inventory and health (`-q -x`) period; default 30 s. */
  inventoryIntervalMs?: number;
  /** Usage sample period; default 5 s. */
  usageIntervalMs?: number;
  /** `stream` (one `-lms` process, the default: cheaper), `spawn` (one process per sample), or `off`. */
  sampling?: SamplingStrategy | 'off';
  /** Clean checks in a row that release a quarantined GPU; default 3. */
  releaseAfterChecks?: number;
  /** False: no background loops; every read() runs a fresh check (for the CLI). Default true. */
  background?: boolean;
  /** Environment for NSML_NVIDIA_SMI and CUDA_VISIBLE_DEVICES, and for nvidia-smi; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Owner of a GPU process; default reads NSML_SESSION from /proc/<pid>/environ. */
  sessionOf?: SessionResolver;
  onEvent?: (event: ProbeEvent) => void;
  /** Test seams: replace process spawning. */
  runner?: SmiRunner;
  streamSpawner?: SmiStreamSpawner;
}

import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { BlobCache } from '../cache/blob-cache.js';
import type { DatasetCache } from '../datasets/dataset-cache.js';
import type { Environments } from '../env/environments.js';
import type { ForeignHolder } from '../gpu/types.js';
import type { RunAsUser, SessionUsers } from '../run-as/run-as-user.js';
import type { RankSpec } from './rank-spec.js';
import type { SessionDir } from './session-dir.js';

/** What the lifecycle hooks need from the agent. */
export interface RunnerDeps {
  cache: BlobCache;
  /** Mounts the datasets a rank pins (agent/datasets); without it such a rank fails to start. */
  datasets?: DatasetCache;
  /** Runs the supervisor and `.py` entries. */
  python: string;
  /** Put first on PYTHONPATH. */
  sdkPath: string;
  /** agent/runner/supervisor.py. */
  supervisorPath: string;
  /** The CUDA_VISIBLE_DEVICES item for a node-local GPU index (a MIG unit's UUID, else the index). */
  gpuDevice(index: number): string;
  /** The environment user processes inherit (the agent's, without its NSML_* variables). */
  baseEnv: NodeJS.ProcessEnv;
  /** How often a running rank is checked for its end. */
  pollMs: number;
  logger: Logger;
  clock: Clock;
  /**
   * Just before a rank starts: the processes nsml did not start that hold these node-local GPUs
   * (the GPU probe's checkFree); `error` when the check itself failed. Absent: nothing is checked.
   */
  checkGpus?(indices: readonly number[]): Promise<{ foreign: ForeignHolder[]; error?: string }>;
  /** Services that live as long as a rank's process (the SDK bridge); none when absent. */
  rankServices?: RankServices;
  /**
   * Whose uid runs each session (agent/run-as); absent: the agent's own. With it, a rank's
   * folders are handed to that user before its process starts (runner/session-user.ts).
   */
  sessionUsers?: SessionUsers;
  /** agent/env: interpreters, cached virtual environments, images; absent: every `.py` runs with `python`. */
  environments?: Environments;
}

/** Per-rank services that live as long as its process, e.g. the SDK bridge (agent/session-bridge). */
export interface RankServices {
  /** Before the process starts, and when a running rank is re-adopted. A rejection fails the start. */
  open(spec: RankSpec, dir: SessionDir): Promise<void>;
  /** Once the rank ended, before its end is recorded. Never rejects. */
  close(spec: RankSpec, dir: SessionDir): Promise<void>;
}

/** One rank as it goes through materialize → prestart → start → exited → cleanup. */
export interface RankContext {
  spec: RankSpec;
  dir: SessionDir;
  deps: RunnerDeps;
  /** Aborted when the rank is stopped or the runner is destroyed. */
  signal: AbortSignal;
}

/** What prestart prepares for start: the command line, where and with what environment. */
export interface Launch {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** The account the supervisor runs the command as (it stays root itself); absent: its own. */
  user?: RunAsUser;
}

/** How a rank ended, as the supervisor (or the agent, failing it) recorded it. */
export interface RankEnd {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  message: string;
  endedMs: number;
}

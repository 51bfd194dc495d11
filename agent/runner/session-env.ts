import { delimiter } from 'node:path';
import { localRank, type RankSpec } from './rank-spec.js';

/** Where a rank's platform paths are. */
export interface RankPaths {
  checkpointDir: string;
  socket: string;
  /** The telemetry journal the SDK appends to. */
  telemetry: string;
}

/** The agent's own variables that must not leak into user processes. */
function inherited(base: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || k.startsWith('NSML_') || k === 'CUDA_VISIBLE_DEVICES') continue;
    out[k] = v;
  }
  return out;
}

/**
 * The environment of a rank's process: the agent's environment, then the request's `env`,
 * then the platform's variables (which win, so that a request cannot move a rank onto GPUs it
 * was not given). PYTHONPATH is the bundled SDK followed by the request's or the agent's.
 */
export function sessionEnv(
  spec: RankSpec,
  paths: RankPaths,
  options: { base: NodeJS.ProcessEnv; sdkPath: string; gpuDevice: (index: number) => string },
): Record<string, string> {
  const env = { ...inherited(options.base), ...spec.env };
  const pythonPath = [options.sdkPath, env.PYTHONPATH].filter((p) => p !== undefined && p !== '').join(delimiter);
  const platform: Record<string, string> = {
    CUDA_VISIBLE_DEVICES: spec.gpuIndices.map((i) => options.gpuDevice(i)).join(','),
    NSML_SESSION: spec.session,
    NSML_SESSION_NAME: spec.session,
    NSML_EPOCH: String(spec.epoch),
    NSML_RANK: String(spec.rank),
    NSML_WORLD_SIZE: String(spec.worldSize),
    NSML_LOCAL_RANK: String(localRank(spec)),
    NSML_NODE_RANK: String(spec.nodeRank),
    NSML_GPU_NUM: String(spec.gpuIndices.length),
    NSML_DATASET_NAME: spec.dataset,
    NSML_DATASET_PATH: '',
    NSML_CHECKPOINT_DIR: paths.checkpointDir,
    NSML_AGENT_SOCKET: paths.socket,
    NSML_TELEMETRY_FILE: paths.telemetry,
    NSML_USER: spec.user,
    MASTER_ADDR: spec.masterAddr,
    MASTER_PORT: String(spec.masterPort),
    RANK: String(spec.rank),
    WORLD_SIZE: String(spec.worldSize),
    LOCAL_RANK: String(localRank(spec)),
    LOCAL_WORLD_SIZE: String(spec.localWorldSize),
    PYTHONUNBUFFERED: '1',
    PYTHONPATH: pythonPath,
  };
  return { ...env, ...platform };
}

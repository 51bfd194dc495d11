import { delimiter } from 'node:path';
import { localRank, type RankSpec } from './rank-spec.js';

/** Where a rank's platform paths are. */
export interface RankPaths {
  checkpointDir: string;
  socket: string;
  /** The telemetry journal the SDK appends to. */
  telemetry: string;
}

/**
 * The agent's variables a session's process inherits: only these, so that nothing of the
 * agent's own (its settings, a join token, a cloud credential in its service environment)
 * reaches user code. A session sets anything else with `nsml run --env`.
 */
const PASSED = new Set([
  'PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL',
  'LD_LIBRARY_PATH', 'PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'CONDA_DEFAULT_ENV', 'CONDA_EXE',
  'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'OMP_NUM_THREADS',
]);
const PASSED_PREFIXES = ['LC_', 'CUDA_', 'NCCL_', 'NVIDIA_', 'PYENV_', 'HF_', 'TORCH_', 'TRANSFORMERS_', 'MKL_', 'OPENBLAS_', 'XLA_', 'TF_'];

function inherited(base: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || k === 'CUDA_VISIBLE_DEVICES') continue;
    if (PASSED.has(k) || PASSED_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

/**
 * The environment of a rank's process: the agent's variables that are passed on, then the request's `env`,
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

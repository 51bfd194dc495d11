import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { Launch, RankContext } from '../runner/rank-context.js';
import { containerArgv, containerCudaDevices } from './container-launch.js';
import type { ContainerRuntime } from './container-runtime.js';

/** The node's own variables that would be wrong inside an image (its paths, not the node's). */
const NODE_ONLY = new Set(['PATH', 'VIRTUAL_ENV', 'LD_LIBRARY_PATH', 'PYTHONHOME', 'CONDA_PREFIX', 'CONDA_EXE', 'CONDA_DEFAULT_ENV', 'SHELL']);

/**
 * Turns a bare launch into one that runs the same command in `image`: the rank's folder, the SDK,
 * the socket's folder and the session's outputs are mounted at the same paths, so every NSML_*
 * variable holds inside; the runtime runs as the supervisor's user and the command as the
 * session's account (`--user`).
 */
export function wrapInContainer(ctx: RankContext, launch: Launch, rt: ContainerRuntime, image: string): Launch {
  const { spec, dir, deps } = ctx;
  const env: Record<string, string> = { ...launch.env, CUDA_VISIBLE_DEVICES: containerCudaDevices(spec.gpuIndices) };
  const mounts = [
    { path: dir.root, readOnly: false },
    { path: deps.sdkPath, readOnly: true },
    { path: dirname(dir.socket), readOnly: false },
    ...[env.NSML_NFS_OUTPUT, env.NSML_CACHE_DIR].filter((p): p is string => !!p).map((path) => ({ path, readOnly: false })),
  ];
  const argv = containerArgv(rt, {
    image, argv: launch.argv, cwd: launch.cwd, envNames: Object.keys(env).filter((k) => !NODE_ONLY.has(k)).sort(),
    mounts, gpus: spec.gpuIndices, user: launch.user ? { uid: launch.user.uid, gid: launch.user.gid } : undefined,
    cpus: spec.cpus ?? 0, memoryMib: spec.memoryMib ?? 0, shmSizeMib: spec.shmSizeMib ?? 0,
    name: `nsml-${createHash('sha256').update(`${spec.session}|${spec.epoch}|${spec.rank}`).digest('hex').slice(0, 16)}`,
  });
  return { argv, cwd: launch.cwd, env };
}

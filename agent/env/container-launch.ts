import type { ContainerRuntime } from './container-runtime.js';

/** What a rank's process needs inside its image. */
export interface ContainerSpec {
  image: string;
  /** The command to run inside (python ENTRY ARGS, or the entry itself). */
  argv: string[];
  cwd: string;
  /** Variables to pass; their values travel in the runtime's own environment (`-e NAME`), never on its command line. */
  envNames: string[];
  /** Folders seen at the same path inside: the rank's folder, the SDK, the socket's folder, outputs. */
  mounts: { path: string; readOnly: boolean }[];
  /** Node-local GPU indices for the session. */
  gpus: number[];
  /** The account to run as inside (uid:gid); absent: the image's. */
  user?: { uid: number; gid: number };
  cpus: number;
  memoryMib: number;
  shmSizeMib: number;
  /** A name for the container (unique per rank). */
  name: string;
}

/**
 * The runtime's command line for one rank: `run --rm --network host`, its GPUs, every mount at
 * the same path (so NSML_* paths hold inside), limits, then the image and the command. Pure.
 */
export function containerArgv(rt: ContainerRuntime, s: ContainerSpec): string[] {
  const out = [rt.path, 'run', '--rm', '--network', 'host', '--name', s.name, '-w', s.cwd];
  for (const m of s.mounts) out.push('-v', `${m.path}:${m.path}${m.readOnly ? ':ro' : ''}`);
  for (const n of s.envNames) out.push('-e', n);
  if (s.gpus.length > 0) {
    if (rt.kind === 'docker') out.push('--gpus', `"device=${s.gpus.join(',')}"`);
    else for (const g of s.gpus) out.push('--device', `nvidia.com/gpu=${g}`);
  }
  if (s.user) out.push('--user', `${s.user.uid}:${s.user.gid}`);
  if (s.cpus > 0) out.push('--cpus', String(s.cpus));
  if (s.memoryMib > 0) out.push('--memory', `${s.memoryMib}m`);
  if (s.shmSizeMib > 0) out.push('--shm-size', `${s.shmSizeMib}m`);
  out.push(s.image, ...s.argv);
  return out;
}

/** Inside the container the session's GPUs are numbered from 0. */
export function containerCudaDevices(gpus: readonly number[]): string {
  return gpus.map((_, i) => String(i)).join(',');
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { StartSession__Output } from '../../common/proto/types.js';
import { checkPythonVersion } from './interpreters.js';

/** An image reference as podman and docker take it: registry/name:tag or @digest, no spaces or options. */
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,254}$/;

/** Checks an image name at the edge (CLI, submit, agent, setup.py's header). */
export function checkImage(image: string): string {
  if (image !== '' && !IMAGE.test(image)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `--image takes an image reference such as docker.io/pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime; got ${JSON.stringify(image.slice(0, 80))}`);
  }
  return image;
}

function nonNegative(name: string, v: number | undefined): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `start request: ${name} must be a non-negative integer; got ${v}`);
  return n;
}

/** The environment fields of a `start` (StartSession 17-21), validated; only those set are returned. */
export function environmentFromStart(m: Pick<StartSession__Output, 'python' | 'image' | 'shmSizeMib' | 'cpus' | 'memoryMib'>): {
  python?: string; image?: string; shmSizeMib?: number; cpus?: number; memoryMib?: number;
} {
  const out: { python?: string; image?: string; shmSizeMib?: number; cpus?: number; memoryMib?: number } = {};
  if (m.python) out.python = checkPythonVersion(m.python);
  if (m.image) out.image = checkImage(m.image);
  const shm = nonNegative('shm_size_mib', m.shmSizeMib);
  const cpus = nonNegative('cpus', m.cpus);
  const memory = nonNegative('memory_mib', m.memoryMib);
  if (shm) out.shmSizeMib = shm;
  if (cpus) out.cpus = cpus;
  if (memory) out.memoryMib = memory;
  return out;
}

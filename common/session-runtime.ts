import { ErrorCodes, NsmlError } from './errors.js';

/** What a session asks of its node's environment beyond GPUs, CPUs and memory (SubmitRequest 15-17). */
export interface SessionRuntime {
  /** `3`, `3.11` or `3.11.7`; '' for the node's default Python. */
  python: string;
  /** A container image reference; '' for none. */
  image: string;
  /** /dev/shm size in MiB in a container; 0 for the runtime's default. */
  shmSizeMib: number;
}

const PYTHON_VERSION = /^\d+(\.\d+){0,2}$/;
/** An image reference as podman and docker take it: registry/name:tag or @digest, no spaces, no leading '-'. */
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,254}$/;
const MAX_SHM_MIB = 1 << 20;

/** Checks `--python` at the edge (CLI, submit, agent). */
export function checkPythonVersion(wanted: string): string {
  if (wanted !== '' && !PYTHON_VERSION.test(wanted)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `--python takes a version such as 3.11; got ${JSON.stringify(wanted.slice(0, 40))}`);
  }
  return wanted;
}

/** Checks an image name at the edge (CLI, submit, agent, setup.py's `#nsml:` header). */
export function checkImage(image: string): string {
  if (image !== '' && !IMAGE.test(image)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `--image takes an image reference such as docker.io/pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime; got ${JSON.stringify(image.slice(0, 80))}`);
  }
  return image;
}

/** Checks `--shm-size` in MiB. */
export function checkShmSizeMib(mib: number): number {
  if (!Number.isSafeInteger(mib) || mib < 0 || mib > MAX_SHM_MIB) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `shm_size_mib must be an integer from 0 to ${MAX_SHM_MIB}; got ${mib}`);
  }
  return mib;
}

/** True when `version` (X.Y.Z) is what `wanted` (X, X.Y or X.Y.Z) asks for. */
export function versionMatches(version: string, wanted: string): boolean {
  return version === wanted || version.startsWith(`${wanted}.`);
}

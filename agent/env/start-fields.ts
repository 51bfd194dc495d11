import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { StartSession__Output } from '../../common/proto/types.js';
import { checkImage, checkPythonVersion } from '../../common/session-runtime.js';

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

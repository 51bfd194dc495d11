import { ErrorCodes, NsmlError } from '../common/errors.js';

const UNIT_MIB: Record<string, number> = { m: 1, g: 1024, t: 1024 * 1024 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([mgt])(?:i?b)?$/i;

/** The most memory a request may name, as the coordinator accepts it (memory_mib). */
export const MAX_MEMORY_MIB = 2 ** 30;

/**
 * Parses a memory size written with a unit: `512M`, `16G`, `1.5GiB`, `2T`. M, G and T are
 * binary (MiB, GiB, TiB; `MB` and `GB` are read the same way, as Docker does). A bare number is
 * refused, since its unit would be a guess. Returns whole MiB, rounded up.
 */
export function parseMemoryMib(text: string, flag = '--memory'): number {
  const m = SIZE.exec(text.trim());
  const mib = m ? Math.ceil(Number(m[1]) * UNIT_MIB[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(mib) || mib > MAX_MEMORY_MIB) {
    throw new NsmlError(
      ErrorCodes.USAGE,
      `${flag} must be a size such as 512M, 16G or 1.5GiB (at most 1024T); got ${JSON.stringify(text)}`,
    );
  }
  return mib;
}

import { ErrorCodes, NsmlError } from '../common/errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** `100MiB`, `1.5G`, `512k`, `4096` → bytes (binary units: k = 1024). */
export function parseSize(text: string, flag = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new NsmlError(ErrorCodes.USAGE, `${flag} must be a size like 100MiB, 2GiB or 512KiB; got ${JSON.stringify(text)}`);
  }
  return Math.round(Number(m[1]) * unit);
}

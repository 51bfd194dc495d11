import { parseDatasetRef } from '../../common/dataset-ref.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import type { DatasetPin__Output } from '../../common/proto/types.js';

/** One dataset version a rank mounts, as kept in rank.json. */
export interface DatasetPinSpec {
  name: string;
  version: number;
  manifest: string;
}

/** `NAME@V`. */
export function pinRef(p: Pick<DatasetPinSpec, 'name' | 'version'>): string {
  return `${p.name}@${p.version}`;
}

/** Validates the pins of a `start` (they come from outside): names, versions, manifest hashes, no name twice. */
export function pinsFromStart(pins: readonly DatasetPin__Output[] | undefined): DatasetPinSpec[] {
  const out: DatasetPinSpec[] = [];
  const seen = new Set<string>();
  for (const p of pins ?? []) {
    const bad = (what: string) => new NsmlError(ErrorCodes.INVALID_ARGUMENT, `start request: dataset ${JSON.stringify(p.name)}: ${what}`);
    parseDatasetRef(p.name);
    if (!Number.isSafeInteger(p.version) || p.version < 1) throw bad(`version must be a number from 1; got ${p.version}`);
    if (!isBlobHash(p.manifest)) throw bad('manifest must be a sha256 blob hash');
    if (seen.has(p.name)) throw bad('named twice');
    seen.add(p.name);
    out.push({ name: p.name, version: p.version, manifest: p.manifest });
  }
  return out;
}

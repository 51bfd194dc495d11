import { parseDatasetRef } from '../../common/dataset-ref.js';

/** At most this many held versions are kept per node. */
export const MAX_HELD_DATASETS = 10_000;

/**
 * The `NAME@V` entries of a heartbeat's dataset list that are well formed (the list comes from
 * outside); others are dropped, and the list is cut at MAX_HELD_DATASETS.
 */
export function heldDatasets(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of list) {
    if (out.length >= MAX_HELD_DATASETS) break;
    try {
      if (parseDatasetRef(item).version > 0) out.push(item);
    } catch {
      // not NAME@V: ignored
    }
  }
  return out;
}

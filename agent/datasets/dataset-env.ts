import { join } from 'node:path';
import { DATASET_LIST_SEPARATOR } from '../../common/dataset-ref.js';
import type { DatasetPinSpec } from './pins.js';

/** Where a rank's datasets are mounted: `<rank folder>/datasets/NAME`. */
export function datasetsDir(rankRoot: string): string {
  return join(rankRoot, 'datasets');
}

export function mountPath(rankRoot: string, name: string): string {
  return join(datasetsDir(rankRoot), name);
}

/**
 * The dataset variables of a rank's process (see proto/nsml/v1/dataset.proto): the folders and
 * names in the order given, joined with ':', under the NSML_ names the SDK reads and the plain
 * names NSML scripts read; the pinned versions (NSML_DATASET_VERSION, which keys nsml.cache);
 * HAS_DATASET "1" or "0".
 */
export function datasetEnv(pins: readonly DatasetPinSpec[] | undefined, rankRoot: string): Record<string, string> {
  if (!pins || pins.length === 0) return { HAS_DATASET: '0' };
  const path = pins.map((p) => mountPath(rankRoot, p.name)).join(DATASET_LIST_SEPARATOR);
  const name = pins.map((p) => p.name).join(DATASET_LIST_SEPARATOR);
  const version = pins.map((p) => String(p.version)).join(DATASET_LIST_SEPARATOR);
  return { NSML_DATASET_PATH: path, NSML_DATASET_NAME: name, NSML_DATASET_VERSION: version, DATASET_PATH: path, DATASET_NAME: name, HAS_DATASET: '1' };
}

import { echo } from './echo.js';
import { ErrorCodes, NsmlError } from './errors.js';
import { validateDatasetName } from './names.js';

/** NAME (version 0: the latest) or NAME@V. */
export interface DatasetRefParts {
  name: string;
  version: number;
}

/** The largest version number accepted in a reference. */
export const MAX_DATASET_VERSION = 1_000_000_000;

/** How several dataset paths or names are joined in one environment variable (os.pathsep). */
export const DATASET_LIST_SEPARATOR = ':';

/** At most this many datasets per session. */
export const MAX_SESSION_DATASETS = 16;

/** Parses `NAME` or `NAME@V`, validating the name (lowercase letters, digits, '-', '_'). */
export function parseDatasetRef(text: string): DatasetRefParts {
  const at = text.lastIndexOf('@');
  if (at < 0) return { name: validateDatasetName(text), version: 0 };
  const name = validateDatasetName(text.slice(0, at));
  const v = text.slice(at + 1);
  if (!/^[1-9][0-9]{0,9}$/.test(v) || Number(v) > MAX_DATASET_VERSION) {
    throw new NsmlError(
      ErrorCodes.INVALID_NAME,
      `invalid dataset version ${echo(text)}: write NAME@V with V a version number from 1, e.g. ${name}@2, or NAME alone for the latest`,
      { details: { kind: 'dataset version', value: text.slice(0, 256) } },
    );
  }
  return { name, version: Number(v) };
}

/** `NAME@V`, or `NAME` when the version is 0 (the latest). */
export function formatDatasetRef(ref: DatasetRefParts): string {
  return ref.version > 0 ? `${ref.name}@${ref.version}` : ref.name;
}

/** Parses `a,b@2,c` (as `nsml run -d` takes it): at least one, no name twice. */
export function parseDatasetList(text: string): DatasetRefParts[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) {
    throw new NsmlError(ErrorCodes.INVALID_NAME, `invalid dataset list ${echo(text)}: write NAME[@V] names separated by commas, e.g. mnist,cifar@2`);
  }
  return checkDatasetRefs(parts.map(parseDatasetRef));
}

/** Refuses too many datasets and a name given twice (each is mounted at a folder of its name). */
export function checkDatasetRefs(refs: DatasetRefParts[]): DatasetRefParts[] {
  if (refs.length > MAX_SESSION_DATASETS) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `a session mounts at most ${MAX_SESSION_DATASETS} datasets; got ${refs.length}`);
  }
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.name)) {
      throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `dataset ${r.name} is named twice; each dataset is mounted once, at a folder of its name`);
    }
    seen.add(r.name);
  }
  return refs;
}

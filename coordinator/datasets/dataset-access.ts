import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { DatasetRow, DatasetTable, DatasetVersionRow } from './dataset-table.js';

/** A public dataset is readable by everyone; a private one by its owner, its readers and admins. */
export function canRead(ds: DatasetRow, user: string, admin = false): boolean {
  return admin || !ds.private || ds.owner === user || ds.readers.includes(user);
}

export function datasetNotFound(name: string): NsmlError {
  return new NsmlError(
    ErrorCodes.DATASET_NOT_FOUND,
    `no dataset named ${name}; list them with \`nsml dataset ls\`, or push one with \`nsml dataset push ${name} DIR\``,
    { details: { name } },
  );
}

function privateTo(ds: DatasetRow, user: string): NsmlError {
  return new NsmlError(
    ErrorCodes.PERMISSION_DENIED,
    `dataset ${ds.name} is private to ${ds.owner}; ask ${ds.owner} to share it with you (\`nsml dataset share ${ds.name} ${user}\`)`,
    { details: { name: ds.name, owner: ds.owner } },
  );
}

/** The dataset `name` if `user` may read it; NSML_E_DATASET_NOT_FOUND or NSML_E_PERMISSION_DENIED otherwise. */
export function readable(table: DatasetTable, name: string, user: string, admin = false): DatasetRow {
  const ds = table.get(name);
  if (!ds) throw datasetNotFound(name);
  if (!canRead(ds, user, admin)) throw privateTo(ds, user);
  return ds;
}

/** The dataset `name` if `user` owns it (or is an admin); only the owner pushes, shares and removes. */
export function owned(table: DatasetTable, name: string, user: string, action: string, admin = false): DatasetRow {
  const ds = readable(table, name, user, admin);
  if (ds.owner !== user && !admin) {
    throw new NsmlError(
      ErrorCodes.PERMISSION_DENIED,
      `dataset ${name} belongs to ${ds.owner}; only ${ds.owner} can ${action} it`,
      { details: { name, owner: ds.owner } },
    );
  }
  return ds;
}

/** Version `version` of a readable dataset (0: the latest). */
export function resolveVersion(table: DatasetTable, name: string, version: number, user: string, admin = false): DatasetVersionRow {
  readable(table, name, user, admin);
  const v = version > 0 ? table.version(name, version) : table.latest(name);
  if (v) return v;
  const have = table.versions(name).map((x) => x.version).reverse();
  throw new NsmlError(
    ErrorCodes.DATASET_NOT_FOUND,
    `dataset ${name} has no version ${version}; its versions are ${have.join(', ') || 'none'} (\`nsml dataset ls ${name}\`)`,
    { details: { name, version, versions: have } },
  );
}

import type { Dataset, DatasetVersion } from '../../common/proto/types.js';
import type { DatasetListing } from './dataset-registry.js';
import type { DatasetVersionRow } from './dataset-table.js';

export function versionProto(v: DatasetVersionRow): DatasetVersion {
  return {
    name: v.name, version: v.version, manifest: v.manifest, files: v.files, bytes: v.bytes,
    description: v.description, pushedBy: v.pushedBy, createdMs: v.createdMs,
  };
}

export function datasetProto(l: DatasetListing): Dataset {
  const d = l.dataset;
  const out: Dataset = {
    name: d.name, owner: d.owner, private: d.private, readers: d.readers, description: d.description,
    versions: l.versions, createdMs: d.createdMs, updatedMs: d.updatedMs,
  };
  if (l.latest) out.latest = versionProto(l.latest);
  return out;
}

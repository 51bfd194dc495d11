import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateUser } from '../../common/names.js';
import type { DatasetRef__Output, DatasetServiceHandlers } from '../../common/proto/types.js';
import { datasetProto, versionProto } from '../datasets/dataset-proto.js';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { BlobAccess } from '../auth/blob-access.js';
import { requireReadableManifest } from '../auth/manifest-access.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { unary, userOf } from './grpc-util.js';

/** What the dataset calls need beyond the registry: who calls, and whether they may commit a manifest. */
export interface DatasetAuth {
  auth: Authenticator;
  blobs: BlobStore;
  blobAccess: BlobAccess;
}

function refOf(req: DatasetRef__Output): { name: string; version: number } {
  if (!Number.isSafeInteger(req.version) || req.version < 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `version must be 0 (the latest) or a version number from 1; got ${req.version}`);
  }
  return { name: req.name, version: req.version };
}

/** DatasetService (proto/nsml/v1/dataset.proto) over the registry's rules. */
export function datasetService(registry: DatasetRegistry, deps: DatasetAuth): DatasetServiceHandlers {
  const callerOf = (md: Parameters<typeof userOf>[1]) => userOf(deps.auth, md).user;
  return {
    Commit: unary(async (req, call) => {
      const caller = userOf(deps.auth, call.metadata);
      const user = caller.user;
      await requireReadableManifest(deps, caller, req.manifest, `dataset ${req.name.slice(0, 100)}`);
      const input = { name: req.name, manifest: req.manifest, description: req.description, readers: req.readers };
      const r = await registry.commit(user, req.private === undefined ? input : { ...input, private: req.private });
      return { version: versionProto(r.version), created: r.created, dataset: datasetProto(r.listing) };
    }),
    List: unary((req, call) => {
      const user = callerOf(call.metadata);
      const owner = req.owner === '' ? '' : validateUser(req.owner);
      return { datasets: registry.list(user, owner).map(datasetProto) };
    }),
    Versions: unary((req, call) => {
      const user = callerOf(call.metadata);
      const r = registry.versions(user, req.name);
      return { dataset: datasetProto(r.listing), versions: r.versions.map(versionProto) };
    }),
    Resolve: unary((req, call) => versionProto(registry.resolve(callerOf(call.metadata), refOf(req)))),
    Remove: unary((req, call) => ({ removed: registry.remove(callerOf(call.metadata), refOf(req)).map(versionProto) })),
    Share: unary((req, call) => {
      const user = callerOf(call.metadata);
      const change = { add: req.add, remove: req.remove };
      return datasetProto(registry.share(user, req.name, req.private === undefined ? change : { ...change, private: req.private }));
    }),
  };
}

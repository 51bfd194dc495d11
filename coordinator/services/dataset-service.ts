import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateUser } from '../../common/names.js';
import type { DatasetRef__Output, DatasetServiceHandlers } from '../../common/proto/types.js';
import { datasetProto, versionProto } from '../datasets/dataset-proto.js';
import type { DatasetRegistry } from '../datasets/dataset-registry.js';
import { callerOf, unary } from './grpc-util.js';

function refOf(req: DatasetRef__Output): { name: string; version: number } {
  if (!Number.isSafeInteger(req.version) || req.version < 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `version must be 0 (the latest) or a version number from 1; got ${req.version}`);
  }
  return { name: req.name, version: req.version };
}

/** DatasetService (proto/nsml/v1/dataset.proto) over the registry's rules. */
export function datasetService(registry: DatasetRegistry): DatasetServiceHandlers {
  return {
    Commit: unary(async (req, call) => {
      const user = callerOf(call.metadata);
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

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { CheckpointServiceHandlers } from '../../common/proto/types.js';
import { checkpointProto } from '../checkpoints/checkpoint-proto.js';
import type { CheckpointRegistry } from '../checkpoints/checkpoint-registry.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { BlobAccess } from '../auth/blob-access.js';
import { requireReadableManifest } from '../auth/manifest-access.js';
import { sessionFor } from '../auth/session-access.js';
import type { Store } from '../store/types.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { unary } from './grpc-util.js';

/** Who calls (a user, or an agent for a session placed on its node), and whether they may register a manifest. */
export interface CheckpointAuth {
  auth: Authenticator;
  store: Store;
  blobs: BlobStore;
  blobAccess: BlobAccess;
}

function limitOf(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `limit must be 0 (all) or a positive count; got ${limit}`);
  return limit;
}

/** CheckpointService (proto/nsml/v1/checkpoint.proto) over the registry's rules. */
export function checkpointService(registry: CheckpointRegistry, deps: CheckpointAuth): CheckpointServiceHandlers {
  const callerOf = (md: Parameters<Authenticator['caller']>[0]) => deps.auth.caller(md);
  return {
    Register: unary(async (req, call) => {
      const caller = callerOf(call.metadata);
      sessionFor(deps.store, caller, req.session, 'own');
      await requireReadableManifest(deps, caller, req.manifest, `checkpoint ${req.session.slice(0, 100)}/${req.name.slice(0, 100)}`);
      const row = await registry.register(caller, {
        session: req.session, epoch: req.epoch, name: req.name, manifest: req.manifest, summary: req.summary, source: req.source,
      });
      return checkpointProto(row);
    }),
    List: unary((req, call) => ({
      checkpoints: registry.list(callerOf(call.metadata), req.session, limitOf(req.limit)).map(checkpointProto),
    })),
    Get: unary((req, call) => checkpointProto(registry.get(callerOf(call.metadata), req.session, req.name))),
    Remove: unary((req, call) => ({ session: req.session, removed: registry.remove(callerOf(call.metadata), req.session, req.names) })),
  };
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { CheckpointServiceHandlers } from '../../common/proto/types.js';
import { checkpointProto } from '../checkpoints/checkpoint-proto.js';
import type { CheckpointRegistry } from '../checkpoints/checkpoint-registry.js';
import { callerOf, unary } from './grpc-util.js';

function limitOf(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `limit must be 0 (all) or a positive count; got ${limit}`);
  return limit;
}

/** CheckpointService (proto/nsml/v1/checkpoint.proto) over the registry's rules. */
export function checkpointService(registry: CheckpointRegistry): CheckpointServiceHandlers {
  return {
    Register: unary(async (req, call) => {
      const user = callerOf(call.metadata);
      const row = await registry.register(user, {
        session: req.session, epoch: req.epoch, name: req.name, manifest: req.manifest, summary: req.summary, source: req.source,
      });
      return checkpointProto(row);
    }),
    List: unary((req, call) => ({
      checkpoints: registry.list(callerOf(call.metadata), req.session, limitOf(req.limit)).map(checkpointProto),
    })),
    Get: unary((req, call) => checkpointProto(registry.get(callerOf(call.metadata), req.session, req.name))),
  };
}

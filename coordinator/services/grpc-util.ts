import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/caller.js';

/**
 * The calling user (a user token, not an agent's credential), or NSML_E_UNAUTHENTICATED /
 * NSML_E_PERMISSION_DENIED. Agents reach only the checkpoint and blob calls they need.
 */
export function userOf(auth: Authenticator, metadata: grpc.Metadata): Caller {
  const caller = auth.caller(metadata);
  if (caller.node) throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `node ${caller.node} may not make this call with its node credential; it is for users`);
  return caller;
}

/** The caller when an admin; NSML_E_PERMISSION_DENIED otherwise, naming what was refused. */
export function adminOf(auth: Authenticator, metadata: grpc.Metadata, what: string): Caller {
  const caller = userOf(auth, metadata);
  if (!caller.admin) {
    throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `${what} is for admins; ${caller.user} is not one (an admin can make them one: \`nsml user add ${caller.user} --admin\`)`, { details: { user: caller.user } });
  }
  return caller;
}

/** Wraps a unary handler: a thrown error or rejected promise becomes a gRPC status with its NSML_E_* code. */
export function unary<Req, Res>(
  fn: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
  };
}

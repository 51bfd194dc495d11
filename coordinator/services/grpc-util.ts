import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { USER_KEY } from '../../common/grpc/options.js';
import { toServiceError } from '../../common/grpc/status.js';
import { validateUser } from '../../common/names.js';

/** The calling user, from the `nsml-user` metadata entry, validated. */
export function callerOf(metadata: grpc.Metadata): string {
  const value = metadata.get(USER_KEY)[0];
  if (typeof value !== 'string' || value.length === 0) {
    throw new NsmlError(ErrorCodes.UNAUTHENTICATED, `the call carries no ${USER_KEY} metadata; set NSML_USER or log in`);
  }
  return validateUser(value);
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

import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError, type ErrorCode, errorMessage } from '../errors.js';

/** Metadata key that carries the stable NSML_E_* code of a failed call. */
export const ERROR_CODE_KEY = 'nsml-error-code';

const STATUS_OF: Partial<Record<ErrorCode, grpc.status>> = {
  [ErrorCodes.INVALID_ARGUMENT]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.INVALID_NAME]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.ENTRY_NOT_FOUND]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.WORKSPACE_INVALID]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.WORKSPACE_SYMLINK_ESCAPES]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.BLOB_CORRUPT]: grpc.status.DATA_LOSS,
  [ErrorCodes.NOT_FOUND]: grpc.status.NOT_FOUND,
  [ErrorCodes.SESSION_NOT_FOUND]: grpc.status.NOT_FOUND,
  [ErrorCodes.NODE_NOT_FOUND]: grpc.status.NOT_FOUND,
  [ErrorCodes.BLOB_NOT_FOUND]: grpc.status.NOT_FOUND,
  [ErrorCodes.UNSATISFIABLE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.ALREADY_FINISHED]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.STALE_EPOCH]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.STALE_PLAN]: grpc.status.ABORTED,
  [ErrorCodes.PERMISSION_DENIED]: grpc.status.PERMISSION_DENIED,
  [ErrorCodes.UNAUTHENTICATED]: grpc.status.UNAUTHENTICATED,
  [ErrorCodes.TOO_LARGE]: grpc.status.RESOURCE_EXHAUSTED,
  [ErrorCodes.COORDINATOR_UNAVAILABLE]: grpc.status.UNAVAILABLE,
  [ErrorCodes.DEADLINE_EXCEEDED]: grpc.status.DEADLINE_EXCEEDED,
  [ErrorCodes.DATASET_NOT_FOUND]: grpc.status.NOT_FOUND,
  [ErrorCodes.DATASET_IN_USE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.DATASET_INCOMPLETE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.FILE_CHANGED]: grpc.status.ABORTED,
  [ErrorCodes.DESTINATION_NOT_EMPTY]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.DISK_FULL]: grpc.status.RESOURCE_EXHAUSTED,
  [ErrorCodes.NODE_ID_TAKEN]: grpc.status.ALREADY_EXISTS,
  [ErrorCodes.NODE_BUSY]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.SESSION_ACTIVE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.GC_UNSAFE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.REQUEST_ID_REUSED]: grpc.status.ALREADY_EXISTS,
  [ErrorCodes.MALFORMED_REQUEST]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.TLS_REQUIRED]: grpc.status.UNAVAILABLE,
  [ErrorCodes.TLS_UNAVAILABLE]: grpc.status.UNAVAILABLE,
  [ErrorCodes.TLS_VERIFY]: grpc.status.UNAVAILABLE,
  [ErrorCodes.TLS_CLIENT_CERT]: grpc.status.UNAVAILABLE,
  [ErrorCodes.SESSION_NOT_RUNNING]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.PYTHON_UNAVAILABLE]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.NO_CONTAINER_RUNTIME]: grpc.status.FAILED_PRECONDITION,
};

/** SQLITE_FULL, ENOSPC or EDQUOT anywhere in the cause chain: a full disk, not a bug. */
function noRoomCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return code;
  }
  return undefined;
}

/** Server side: turns anything thrown by a handler into a gRPC error that keeps the code. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof NsmlError) {
    metadata.set(ERROR_CODE_KEY, err.code);
    return { code: STATUS_OF[err.code] ?? grpc.status.UNKNOWN, details: err.message, metadata };
  }
  const full = noRoomCode(err);
  if (full) {
    metadata.set(ERROR_CODE_KEY, ErrorCodes.DISK_FULL);
    return {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `the coordinator has no room to store this (${full}: ${errorMessage(err)}); nothing was changed: free space in its data directory (--data) and retry`,
      metadata,
    };
  }
  metadata.set(ERROR_CODE_KEY, ErrorCodes.INTERNAL);
  return { code: grpc.status.INTERNAL, details: `internal error: ${errorMessage(err)}`, metadata };
}

/** Client side: turns a failed call into an NsmlError with the server's code, or a transport one. */
export function fromServiceError(err: unknown, target: string): NsmlError {
  const e = err as Partial<grpc.ServiceError>;
  const code = e.metadata?.get(ERROR_CODE_KEY)?.[0];
  if (typeof code === 'string' && code.startsWith('NSML_E_')) {
    return new NsmlError(code as ErrorCode, e.details ?? errorMessage(err), { cause: err });
  }
  if (e.code === grpc.status.UNAVAILABLE) {
    return new NsmlError(
      ErrorCodes.COORDINATOR_UNAVAILABLE,
      `cannot reach the coordinator at ${target} (${e.details ?? 'unavailable'}); start it with \`nsml up\` or set NSML_COORDINATOR=HOST:PORT`,
      { cause: err },
    );
  }
  if (e.code === grpc.status.DEADLINE_EXCEEDED) {
    return new NsmlError(
      ErrorCodes.DEADLINE_EXCEEDED,
      `the coordinator at ${target} did not answer in time; check that it runs (\`nsml node ls\`) and try again`,
      { cause: err },
    );
  }
  return new NsmlError(ErrorCodes.INTERNAL, `call to ${target} failed: ${e.details ?? errorMessage(err)}`, { cause: err });
}

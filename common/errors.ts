/**
 * The one error tree of nsml. Callers branch on `code`, never on the message; the message says
 * what was expected, what was got and what to do.
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'NSML_E_INVALID_ARGUMENT',
  INVALID_NAME: 'NSML_E_INVALID_NAME',
  NOT_FOUND: 'NSML_E_NOT_FOUND',
  SESSION_NOT_FOUND: 'NSML_E_SESSION_NOT_FOUND',
  NODE_NOT_FOUND: 'NSML_E_NODE_NOT_FOUND',
  BLOB_NOT_FOUND: 'NSML_E_BLOB_NOT_FOUND',
  BLOB_CORRUPT: 'NSML_E_BLOB_CORRUPT',
  ENTRY_NOT_FOUND: 'NSML_E_ENTRY_NOT_FOUND',
  WORKSPACE_INVALID: 'NSML_E_WORKSPACE_INVALID',
  WORKSPACE_SYMLINK_ESCAPES: 'NSML_E_WORKSPACE_SYMLINK_ESCAPES',
  UNSATISFIABLE: 'NSML_E_UNSATISFIABLE',
  ALREADY_FINISHED: 'NSML_E_ALREADY_FINISHED',
  PERMISSION_DENIED: 'NSML_E_PERMISSION_DENIED',
  UNAUTHENTICATED: 'NSML_E_UNAUTHENTICATED',
  COORDINATOR_UNAVAILABLE: 'NSML_E_COORDINATOR_UNAVAILABLE',
  DEADLINE_EXCEEDED: 'NSML_E_DEADLINE_EXCEEDED',
  STALE_EPOCH: 'NSML_E_STALE_EPOCH',
  STALE_PLAN: 'NSML_E_STALE_PLAN',
  TOO_LARGE: 'NSML_E_TOO_LARGE',
  CONFIG: 'NSML_E_CONFIG',
  STATE_DIR: 'NSML_E_STATE_DIR',
  SPAWN_FAILED: 'NSML_E_SPAWN_FAILED',
  GPU_PROBE: 'NSML_E_GPU_PROBE',
  /** A GPU given to a session is held by a process that nsml did not start. */
  GPU_BUSY: 'NSML_E_GPU_BUSY',
  TIMEOUT: 'NSML_E_TIMEOUT',
  INTERNAL: 'NSML_E_INTERNAL',
  /** A command line the CLI cannot parse: unknown flag, missing argument, bad value. */
  USAGE: 'NSML_E_USAGE',
  DATASET_NOT_FOUND: 'NSML_E_DATASET_NOT_FOUND',
  /** A dataset version that a queued or running session pins cannot be removed. */
  DATASET_IN_USE: 'NSML_E_DATASET_IN_USE',
  /** A dataset manifest names blobs the store does not hold (the push did not finish). */
  DATASET_INCOMPLETE: 'NSML_E_DATASET_INCOMPLETE',
  /** A file changed or vanished while it was being pushed. */
  FILE_CHANGED: 'NSML_E_FILE_CHANGED',
  /** A directory that must be new or empty is not. */
  DESTINATION_NOT_EMPTY: 'NSML_E_DESTINATION_NOT_EMPTY',
  /** No space left on a device while writing (ENOSPC, EDQUOT). */
  DISK_FULL: 'NSML_E_DISK_FULL',
  /** A node id that is already registered with another credential (its node secret). */
  NODE_ID_TAKEN: 'NSML_E_NODE_ID_TAKEN',
  /** A node that cannot be forgotten now: it is connected or still holds sessions. */
  NODE_BUSY: 'NSML_E_NODE_BUSY',
  /** The Python SDK cannot reach its agent's socket (NSML_AGENT_SOCKET) in time. */
  AGENT_UNAVAILABLE: 'NSML_E_AGENT_UNAVAILABLE',
  /** An agent sent telemetry with a sequence number past a gap: the stream is reset and replays. */
  SEQUENCE_GAP: 'NSML_E_SEQUENCE_GAP',
  /** `nsml.infer` with no infer callback bound by `nsml.bind`. */
  NOTHING_BOUND: 'NSML_E_NOTHING_BOUND',
  /** An operator command (`nsml control`) that the script refused or that raised. */
  COMMAND_FAILED: 'NSML_E_COMMAND_FAILED',
  /** A session that has not ended yet cannot be removed (`nsml rm`). */
  SESSION_ACTIVE: 'NSML_E_SESSION_ACTIVE',
  /** The blob collection stopped before removing anything: a kept manifest cannot be read. */
  GC_UNSAFE: 'NSML_E_GC_UNSAFE',
  /** A Submit request id that this user already used for a different request. */
  REQUEST_ID_REUSED: 'NSML_E_REQUEST_ID_REUSED',
  /** A request that is not a valid protobuf message of the method's type. */
  MALFORMED_REQUEST: 'NSML_E_MALFORMED_REQUEST',
  /** The coordinator speaks TLS and the client dialed in plaintext (pass --ca or --tls). */
  TLS_REQUIRED: 'NSML_E_TLS_REQUIRED',
  /** The client dialed TLS and the coordinator answers in plaintext. */
  TLS_UNAVAILABLE: 'NSML_E_TLS_UNAVAILABLE',
  /** The coordinator's certificate does not verify against the client's CA, or does not name the host dialed. */
  TLS_VERIFY: 'NSML_E_TLS_VERIFY',
  /** The coordinator wants a client certificate signed by its --client-ca and got none or another. */
  TLS_CLIENT_CERT: 'NSML_E_TLS_CLIENT_CERT',
  /** A session's Python environment (requirements.txt, setup.py, pyproject.toml) could not be installed; the installer's own error follows. */
  ENV_BUILD_FAILED: 'NSML_E_ENV_BUILD_FAILED',
  /** The Python version a session asked for (--python) is offered by no node, or not by the node it reached. */
  PYTHON_UNAVAILABLE: 'NSML_E_PYTHON_UNAVAILABLE',
  /** A session names a container image (--image) and the node has no container runtime (podman or docker). */
  NO_CONTAINER_RUNTIME: 'NSML_E_NO_CONTAINER_RUNTIME',
  /** `nsml exec` or `nsml attach` into a session that is not running (queued, starting, or ended). */
  SESSION_NOT_RUNNING: 'NSML_E_SESSION_NOT_RUNNING',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class NsmlError extends Error {
  override readonly name = 'NsmlError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isNsmlError(err: unknown, code?: ErrorCode): err is NsmlError {
  return err instanceof NsmlError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs and status lines. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

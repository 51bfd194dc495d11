import { ErrorCodes, type NsmlError, isNsmlError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

/**
 * Answers from the coordinator that reconnecting cannot change: a wrong or missing join token
 * (NSML_E_UNAUTHENTICATED), or a node name that another agent's credential holds
 * (NSML_E_NODE_ID_TAKEN). The agent stops dialing and `refusal` resolves with the error, so
 * `nsml agent` exits non-zero with it instead of retrying forever. Everything else (the
 * coordinator is down, restarting, slow) is retried.
 */
export function isFinalRefusal(err: unknown): err is NsmlError {
  return isNsmlError(err, ErrorCodes.UNAUTHENTICATED) || isNsmlError(err, ErrorCodes.NODE_ID_TAKEN);
}

/** Holds the first final refusal of the agent's connection. */
export class RefusalGate {
  readonly refusal: Promise<NsmlError>;
  private settle!: (err: NsmlError) => void;

  constructor(private readonly logger: () => Logger) {
    this.refusal = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** True when `err` is final: it is logged once and `refusal` resolves with it. */
  refuse(err: unknown): boolean {
    if (!isFinalRefusal(err)) return false;
    this.logger().error('the coordinator refused this agent; not reconnecting', { code: err.code, error: err.message });
    this.settle(err);
    return true;
  }
}

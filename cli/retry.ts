import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, isNsmlError } from '../common/errors.js';
import { ERROR_CODE_KEY } from '../common/grpc/status.js';

/** States after which a session never changes again. */
export const TERMINAL_STATES = ['succeeded', 'failed', 'stopped', 'preempted', 'lost'] as const;

export function isTerminal(state: string): boolean {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

const TRANSIENT = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
]);

/**
 * True when a failed call is worth repeating: the connection broke or the coordinator
 * restarted. A failure the coordinator decided (it carries an NSML_E_* code) is final,
 * except NSML_E_COORDINATOR_UNAVAILABLE.
 */
export function isTransient(err: unknown): boolean {
  if (isNsmlError(err)) return err.code === ErrorCodes.COORDINATOR_UNAVAILABLE || err.code === ErrorCodes.DEADLINE_EXCEEDED;
  const e = err as Partial<grpc.ServiceError>;
  const code = e.metadata?.get(ERROR_CODE_KEY)?.[0];
  if (typeof code === 'string' && code.startsWith('NSML_E_')) return code === ErrorCodes.COORDINATOR_UNAVAILABLE;
  return typeof e.code === 'number' && TRANSIENT.has(e.code);
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5_000 };

/** Exponential delay with full jitter for the attempt-th retry (from 0). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

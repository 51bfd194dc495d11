import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import type { SessionRow, Store } from '../store/types.js';

/**
 * Idempotent submit. A client that may retry a Submit (its call failed UNAVAILABLE or ran past
 * its deadline, so it cannot know whether the session was created) sends the same request id
 * each time; the coordinator keeps, per user and request id, the session the first call
 * created, in the transaction that creates it. A repeat returns that session. A repeat with a
 * different request is refused (NSML_E_REQUEST_ID_REUSED) rather than answered with a session
 * that runs something else than what was asked: it is a client bug, not a retry.
 */

/** A request id: 1 to 128 characters of base64url (A-Z a-z 0-9 _ -). */
export const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface SubmitKey {
  user: string;
  requestId: string;
  /** SHA-256 of the request without its id, keys sorted. */
  hash: string;
}

/** The dedup key of a Submit, or undefined when it carries no request id. */
export function submitKey(req: SubmitRequest__Output, user: string): SubmitKey | undefined {
  const requestId = req.requestId ?? '';
  if (requestId === '') return undefined;
  if (!REQUEST_ID.test(requestId)) {
    throw new NsmlError(
      ErrorCodes.INVALID_ARGUMENT,
      `request_id must be 1 to 128 characters of A-Z, a-z, 0-9, "_" and "-" (e.g. 128 random bits in base64url); got ${JSON.stringify(requestId.slice(0, 40))}${requestId.length > 40 ? '...' : ''}`,
    );
  }
  const { requestId: _id, ...body } = req;
  return { user, requestId, hash: createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex') };
}

/** Objects with their keys sorted, so equal requests hash equally whatever the field order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** The session an earlier Submit with this key created; undefined when there was none. */
export function priorSubmit(store: Store, key: SubmitKey): SessionRow | undefined {
  const prior = store.submitRequests.get(key.user, key.requestId);
  if (!prior) return undefined;
  if (prior.requestHash !== key.hash) {
    throw new NsmlError(
      ErrorCodes.REQUEST_ID_REUSED,
      `request id ${key.requestId} was already used by ${key.user} for another request (it created ${prior.session}); send a new random request id for each new submission and reuse one only to retry the same request`,
      { details: { session: prior.session } },
    );
  }
  const row = store.getSession(prior.session);
  if (!row) {
    throw new NsmlError(ErrorCodes.SESSION_NOT_FOUND, `request id ${key.requestId} created ${prior.session}, which no longer exists; submit again with a new request id`);
  }
  return row;
}

/**
 * Creates a session at most once per key: looks for an earlier one and runs `create` in one
 * transaction, storing the key with the new session. Without a key it just creates.
 */
export function submitOnce(
  deps: { store: Store; clock: Clock }, key: SubmitKey | undefined, create: () => SessionRow,
): { row: SessionRow; created: boolean } {
  if (!key) return { row: create(), created: true };
  return deps.store.transaction(() => {
    const prior = priorSubmit(deps.store, key);
    if (prior) return { row: prior, created: false };
    const row = create();
    deps.store.submitRequests.insert({ user: key.user, requestId: key.requestId, session: row.name, requestHash: key.hash, createdMs: deps.clock.now() });
    return { row, created: true };
  });
}

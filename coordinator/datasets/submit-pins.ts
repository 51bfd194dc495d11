import { checkDatasetRefs, parseDatasetRef } from '../../common/dataset-ref.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import type { Lifecycle } from '../sessions/lifecycle.js';
import type { NewSession, SessionRow, Store } from '../store/types.js';
import type { DatasetRegistry } from './dataset-registry.js';

/**
 * The session's dataset name and the references to pin. With `datasets` given, the session is
 * named after the first; `dataset`, when also given, must be that name.
 */
export function datasetRefsOf(req: Pick<SubmitRequest__Output, 'dataset' | 'datasets'>): { dataset: string; refs: string[] } {
  if (req.datasets.length === 0) return { dataset: req.dataset, refs: [] };
  const parsed = checkDatasetRefs(req.datasets.map(parseDatasetRef));
  const first = parsed[0]!.name;
  if (req.dataset !== '' && req.dataset !== first) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `dataset ${JSON.stringify(req.dataset)} must be the first of datasets (${first}): the session is named after it`);
  }
  return { dataset: first, refs: req.datasets };
}

/**
 * Queues the session and pins its datasets to exact versions in one transaction: a version
 * removed concurrently either makes the submit fail or cannot be removed while pinned.
 */
export function submitPinned(
  deps: { store: Store; datasets: DatasetRegistry; lifecycle: Pick<Lifecycle, 'submit'> },
  session: NewSession,
  reason: string,
  refs: string[],
): SessionRow {
  if (refs.length === 0) return deps.lifecycle.submit(session, reason);
  return deps.store.transaction(() => {
    const pins = deps.datasets.pinsFor(session.user, refs);
    const row = deps.lifecycle.submit(session, reason);
    deps.store.datasets.pin(row.name, pins);
    return row;
  });
}

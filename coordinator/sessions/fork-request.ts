import { echo } from '../../common/echo.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateCheckpointName } from '../../common/names.js';
import { reservedArg, withPauseArgs } from '../../common/reserved-args.js';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import type { Caller } from '../auth/caller.js';
import { sessionFor } from '../auth/session-access.js';
import { checkpointNotFound } from '../checkpoints/checkpoint-registry.js';
import type { Store } from '../store/types.js';
import type { Lineage } from './lineage-table.js';

/** The variable that names the session whose checkpoint `nsml.paused()` loads (the SDK reads it). */
export const RESUME_FROM = 'NSML_RESUME_FROM';
/** Set for a requeued session; never carried over from a parent. */
const RESUME_CHECKPOINT = 'NSML_RESUME_CHECKPOINT';

const KINDS: readonly string[] = ['fork', 'resume'] satisfies Array<Lineage['kind']>;

function invalid(message: string): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** The checkpoint to continue from: the one asked for (field or --iteration, which must agree), else the newest. */
function chosenCheckpoint(store: Pick<Store, 'checkpoints'>, req: SubmitRequest__Output, parent: string): string {
  const field = req.checkpoint ?? '';
  const inArgs = reservedArg(req.args, 'iteration');
  if (field !== '' && inArgs !== undefined && inArgs !== field) {
    throw invalid(`checkpoint ${echo(field)} and the entry's --iteration ${echo(inArgs)} disagree; give one of them`);
  }
  const asked = field || inArgs;
  if (asked !== undefined && asked !== '') {
    validateCheckpointName(asked);
    if (!store.checkpoints.get(parent, asked)) throw checkpointNotFound(store.checkpoints, parent, asked);
    return asked;
  }
  const newest = store.checkpoints.names(parent, 1)[0];
  if (newest === undefined) {
    throw new NsmlError(
      ErrorCodes.NOT_FOUND,
      `session ${parent} has no checkpoint to continue from: a fork or resume loads one its script saved with nsml.save (\`nsml model ls ${parent}\`)`,
      { details: { session: parent, existing: [] } },
    );
  }
  return newest;
}

/**
 * A Submit that names a parent (fork, resume, `run --session P --iteration C`): checks that the
 * caller may read the parent and that the checkpoint exists, and completes the request so the
 * script's `nsml.paused()` loads it: `--pause 1 --iteration C` on the entry's command line,
 * NSML_RESUME_FROM=PARENT, over the parent's variables and runtime (Python, image), with the parent's
 * dataset versions when the request names none. Without a parent the request is
 * returned as it is (and must not name a kind or a checkpoint).
 */
export function resolveFork(
  store: Pick<Store, 'users' | 'getSession' | 'checkpoints' | 'datasets'>,
  caller: Caller,
  req: SubmitRequest__Output,
): { req: SubmitRequest__Output; lineage: Lineage | undefined } {
  const parentName = req.parent ?? '';
  const kind = req.kind ?? '';
  if (parentName === '') {
    if (kind !== '' || (req.checkpoint ?? '') !== '') throw invalid('kind and checkpoint need a parent: the session to fork or resume');
    return { req, lineage: undefined };
  }
  if (kind !== '' && !KINDS.includes(kind)) throw invalid(`kind must be "fork" or "resume" (or "" for fork); got ${echo(kind)}`);
  const parent = sessionFor(store, caller, parentName, 'read');
  const checkpoint = chosenCheckpoint(store, req, parent.name);
  const inherited = Object.fromEntries(Object.entries(parent.env).filter(([k]) => k !== RESUME_FROM && k !== RESUME_CHECKPOINT));
  const runtime = parent.runtime;
  // `run --session P` without -d: the parent's dataset versions, as a fork has (its checkpoint was trained on them).
  const sameData = (req.datasets ?? []).length === 0 && (req.dataset ?? '') === '';
  return {
    req: {
      ...req,
      ...(sameData ? { dataset: parent.dataset, datasets: store.datasets.pinsOf(parent.name).map((p) => `${p.name}@${p.version}`) } : {}),
      args: withPauseArgs(req.args, checkpoint),
      env: { ...inherited, ...req.env, [RESUME_FROM]: parent.name },
      // The parent's Python, image and /dev/shm unless the request names its own.
      python: req.python || runtime?.python || '',
      image: req.image || runtime?.image || '',
      shmSizeMib: Number(req.shmSizeMib) || runtime?.shmSizeMib || 0,
    },
    lineage: { parent: parent.name, kind: (kind || 'fork') as Lineage['kind'], checkpoint },
  };
}

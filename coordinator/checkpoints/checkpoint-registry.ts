import type { Caller } from '../auth/caller.js';
import { sessionFor, type SessionNeed } from '../auth/session-access.js';
import type { Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { isBlobHash } from '../../common/hashing.js';
import { parseSessionName, validateCheckpointName } from '../../common/names.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { UploadGuard } from '../blobs/upload-guard.js';
import type { SessionRow, Store } from '../store/types.js';
import type { CheckpointRow, CheckpointSource, CheckpointTable } from './checkpoint-table.js';
import { checkManifestStored } from './manifest-complete.js';

/** A missing checkpoint's error lists at most this many existing names, newest first. */
export const MAX_EXISTING_LISTED = 100;
/** Summary values per checkpoint, and the length of each key. */
export const MAX_SUMMARY_KEYS = 1000;
export const MAX_SUMMARY_KEY_CHARS = 256;

export interface RegisterInput {
  session: string;
  epoch: number;
  name: string;
  manifest: string;
  summary: Record<string, number>;
  source: string;
}

const SOURCES: readonly string[] = ['sdk', 'watcher'] satisfies CheckpointSource[];

function checkSummary(summary: Record<string, number>): Record<string, number> {
  const keys = Object.keys(summary);
  if (keys.length > MAX_SUMMARY_KEYS) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `a checkpoint summary holds at most ${MAX_SUMMARY_KEYS} values; got ${keys.length}`);
  }
  // eslint-disable-next-line no-control-regex
  const bad = keys.find((k) => k.length === 0 || k.length > MAX_SUMMARY_KEY_CHARS || /[\u0000-\u001f\u007f]/.test(k));
  if (bad !== undefined) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `summary key ${JSON.stringify(bad.slice(0, 80))} must be 1 to ${MAX_SUMMARY_KEY_CHARS} characters without control characters`);
  }
  return { ...summary };
}

function checkInput(input: RegisterInput): void {
  validateCheckpointName(input.name);
  if (!isBlobHash(input.manifest)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `manifest must be the sha256 of the manifest blob (64 lowercase hex digits); got ${JSON.stringify(input.manifest.slice(0, 80))}`);
  }
  if (!SOURCES.includes(input.source)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `source must be "sdk" or "watcher"; got ${JSON.stringify(input.source.slice(0, 40))}`);
  }
  if (!Number.isSafeInteger(input.epoch) || input.epoch < 1) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `epoch must be the placement number of the saving process (1 or more); got ${input.epoch}`);
  }
}

/** NSML_E_NOT_FOUND for a missing checkpoint, naming the session's existing ones (newest first). */
export function checkpointNotFound(table: Pick<CheckpointTable, 'names' | 'count'>, session: string, name: string): NsmlError {
  const existing = table.names(session, MAX_EXISTING_LISTED);
  const total = table.count(session);
  const shown = existing.length === 0 ? 'it has none yet' : `existing: ${existing.join(', ')}${total > existing.length ? ` (the newest ${existing.length} of ${total})` : ''}`;
  return new NsmlError(
    ErrorCodes.NOT_FOUND,
    `checkpoint ${JSON.stringify(name)} of session ${session} does not exist; ${shown} (\`nsml model ls ${session}\`)`,
    { details: { session, existing } },
  );
}

/**
 * The rules of checkpoints: registered only once complete, only by the session's current
 * placement, read by the session's owner. A new save of a name replaces the old one.
 */
export class CheckpointRegistry {
  /** `guard`: told of every registered manifest, so the blob collector keeps its blobs (UploadGuard). */
  constructor(private readonly deps: { store: Store; blobs: BlobStore; clock: Clock; guard?: UploadGuard }) {}

  async register(caller: Caller, input: RegisterInput): Promise<CheckpointRow> {
    checkInput(input);
    const summary = checkSummary(input.summary);
    this.readable(caller, input.session, 'own');
    const what = `checkpoint ${input.session}/${input.name}`;
    const { hashes, ...totals } = await checkManifestStored(this.deps.blobs, input.manifest, what);
    const registered = this.deps.store.transaction(() => {
      const session = this.readable(caller, input.session, 'own');
      if (input.epoch < session.epoch) {
        throw new NsmlError(
          ErrorCodes.STALE_EPOCH,
          `${what} comes from placement ${input.epoch} but ${input.session} now runs as placement ${session.epoch}; this process should not be running any more, so nothing was registered`,
          { details: { session: input.session, epoch: input.epoch, current: session.epoch } },
        );
      }
      if (input.epoch > session.epoch) {
        throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `${what} names placement ${input.epoch}, but ${input.session} was placed at most ${session.epoch} times`);
      }
      const row: CheckpointRow = {
        session: input.session, name: input.name, epoch: input.epoch, manifest: input.manifest, ...totals,
        summary, source: input.source as CheckpointSource, createdMs: this.deps.clock.now(),
      };
      this.deps.store.checkpoints.put(row);
      return row;
    });
    this.deps.guard?.registered(hashes);
    return registered;
  }

  /** The checkpoints of a session `caller` may read, newest first. */
  list(caller: Caller, session: string, limit = 0): CheckpointRow[] {
    this.readable(caller, session, 'read');
    return this.deps.store.checkpoints.list(session, limit);
  }

  /** One checkpoint; NSML_E_NOT_FOUND listing the existing names when it does not exist. */
  get(caller: Caller, session: string, name: string): CheckpointRow {
    this.readable(caller, session, 'read');
    validateCheckpointName(name);
    const row = this.deps.store.checkpoints.get(session, name);
    if (row) return row;
    throw checkpointNotFound(this.deps.store.checkpoints, session, name);
  }

  /**
   * Removes checkpoints of a session `caller` may control (owner, admin, a `control` share), all
   * or none: one missing name fails the call naming those that exist. Their blobs are left to the
   * blob collector.
   */
  remove(caller: Caller, session: string, names: readonly string[]): string[] {
    if (names.length === 0) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `name at least one checkpoint of ${session} to remove (\`nsml model ls ${session}\` lists them)`);
    for (const name of names) validateCheckpointName(name);
    const unique = [...new Set(names)];
    return this.deps.store.transaction(() => {
      this.readable(caller, session, 'control');
      const table = this.deps.store.checkpoints;
      const missing = unique.find((name) => !table.get(session, name));
      if (missing !== undefined) throw checkpointNotFound(table, session, missing);
      for (const name of unique) table.remove(session, name);
      return unique;
    });
  }

  /**
   * The session if `caller` may read its checkpoints (`read`: owner, admin, shared) or register
   * one (`own`: its owner, or the agent running it). Others' sessions are not found.
   */
  private readable(caller: Caller, session: string, need: SessionNeed): SessionRow {
    return sessionFor(this.deps.store, caller, session, need);
  }

}

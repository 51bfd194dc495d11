import type { Clock } from '../../common/clock.js';
import { checkDatasetRefs, formatDatasetRef, parseDatasetRef, type DatasetRefParts } from '../../common/dataset-ref.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateDatasetName, validateUser } from '../../common/names.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { UploadGuard } from '../blobs/upload-guard.js';
import type { Store } from '../store/types.js';
import { canRead, owned, readable, resolveVersion } from './dataset-access.js';
import type { DatasetPinRow, DatasetRow, DatasetVersionRow } from './dataset-table.js';
import { checkCompleteManifest } from './manifest-check.js';

/** Sessions in these states hold on to the versions they pin: those cannot be removed. */
export const PINNING_STATES = ['queued', 'scheduled', 'starting', 'running'] as const;

export const MAX_DESCRIPTION_BYTES = 4096;
export const MAX_READERS = 1000;

export interface CommitInput {
  name: string;
  manifest: string;
  description: string;
  private?: boolean;
  readers: string[];
}

/** A dataset with its latest version and how many versions it has. */
export interface DatasetListing {
  dataset: DatasetRow;
  latest: DatasetVersionRow | undefined;
  versions: number;
}

function checkDescription(text: string): string {
  if (Buffer.byteLength(text) > MAX_DESCRIPTION_BYTES) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `a dataset description is at most ${MAX_DESCRIPTION_BYTES} bytes; got ${Buffer.byteLength(text)}`);
  }
  return text;
}

function checkUsers(users: string[]): string[] {
  if (users.length > MAX_READERS) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `at most ${MAX_READERS} readers per call; got ${users.length}`);
  return [...new Set(users.map(validateUser))];
}

/**
 * The rules of datasets: only the owner pushes, shares and removes; private datasets are read
 * by the owner and its readers; a version pinned by an unfinished session stays. Each change
 * is one store transaction.
 */
export class DatasetRegistry {
  /** `guard`: told of every committed manifest, so the blob collector keeps its blobs (UploadGuard). */
  constructor(private readonly deps: { store: Store; blobs: BlobStore; clock: Clock; guard?: UploadGuard }) {}

  /** Admins read, push, share and remove every dataset. */
  private admin(user: string): boolean {
    return this.deps.store.users.get(user)?.admin === true;
  }

  private get table() {
    return this.deps.store.datasets;
  }

  /** Makes a complete pushed manifest the next version (or returns the latest when identical). */
  async commit(user: string, input: CommitInput): Promise<{ version: DatasetVersionRow; created: boolean; listing: DatasetListing }> {
    const name = validateDatasetName(input.name);
    const description = checkDescription(input.description);
    const readers = checkUsers(input.readers);
    const { hashes, ...summary } = await checkCompleteManifest(this.deps.blobs, input.manifest);
    const out = this.deps.store.transaction(() => {
      const now = this.deps.clock.now();
      const existing = this.table.get(name);
      if (existing) owned(this.table, name, user, 'push new versions of', this.admin(user));
      else this.table.create(name, user, input.private ?? false, now);
      if (existing && input.private !== undefined) this.table.update(name, { private: input.private });
      this.table.setReaders(name, readers, []);
      if (description !== '') this.table.update(name, { description });
      const latest = this.table.latest(name);
      if (latest && latest.manifest === input.manifest) return { version: latest, created: false, listing: this.listing(name) };
      const version = this.table.appendVersion({ name, manifest: input.manifest, ...summary, description, pushedBy: user, createdMs: now });
      this.table.update(name, { updatedMs: now });
      return { version, created: true, listing: this.listing(name) };
    });
    this.deps.guard?.registered(hashes);
    return out;
  }

  /** The datasets `user` may read (of `owner` only, when given), by name. */
  list(user: string, owner = ''): DatasetListing[] {
    const latest = this.table.latestAll();
    return this.table.list()
      .filter((d) => canRead(d, user, this.admin(user)) && (owner === '' || d.owner === owner))
      .map((dataset) => {
        const l = latest.get(dataset.name);
        return { dataset, latest: l, versions: l?.count ?? 0 };
      });
  }

  /** A readable dataset and its versions, newest first. */
  versions(user: string, name: string): { listing: DatasetListing; versions: DatasetVersionRow[] } {
    readable(this.table, validateDatasetName(name), user, this.admin(user));
    return { listing: this.listing(name), versions: this.table.versions(name) };
  }

  resolve(user: string, ref: DatasetRefParts): DatasetVersionRow {
    validateDatasetName(ref.name);
    return resolveVersion(this.table, ref.name, ref.version, user, this.admin(user));
  }

  /** Removes one version (or all, version 0) unless an unfinished session pins one of them. */
  remove(user: string, ref: DatasetRefParts): DatasetVersionRow[] {
    validateDatasetName(ref.name);
    return this.deps.store.transaction(() => {
      owned(this.table, ref.name, user, 'remove', this.admin(user));
      const doomed = ref.version > 0 ? [resolveVersion(this.table, ref.name, ref.version, user, this.admin(user))] : this.table.versions(ref.name);
      const uses = this.table.uses(ref.name, ref.version, PINNING_STATES);
      if (uses.length > 0) {
        const shown = uses.slice(0, 3).map((u) => `${u.session} (${u.state}, ${ref.name}@${u.version})`).join(', ');
        throw new NsmlError(
          ErrorCodes.DATASET_IN_USE,
          `${formatDatasetRef(ref)} is in use by ${shown}${uses.length > 3 ? ` and ${uses.length - 3} more` : ''}; stop those sessions (\`nsml stop NAME\`) or wait until they end, then remove it`,
          { details: { sessions: uses.map((u) => u.session) } },
        );
      }
      this.table.removeVersions(ref.name, doomed.map((v) => v.version));
      return doomed;
    });
  }

  /** Adds or removes readers, or makes the dataset private or public. */
  share(user: string, name: string, change: { add: string[]; remove: string[]; private?: boolean }): DatasetListing {
    validateDatasetName(name);
    const add = checkUsers(change.add);
    const remove = checkUsers(change.remove);
    return this.deps.store.transaction(() => {
      owned(this.table, name, user, 'share', this.admin(user));
      this.table.setReaders(name, add, remove);
      if (change.private !== undefined) this.table.update(name, { private: change.private });
      return this.listing(name);
    });
  }

  /**
   * Resolves a session's datasets to exact versions for `user`. Synchronous: call it inside the
   * transaction that inserts the session, so a version cannot vanish in between.
   */
  pinsFor(user: string, refs: string[]): DatasetPinRow[] {
    const parsed = checkDatasetRefs(refs.map(parseDatasetRef));
    return parsed.map((r) => {
      const v = resolveVersion(this.table, r.name, r.version, user, this.admin(user));
      return { name: v.name, version: v.version, manifest: v.manifest };
    });
  }

  private listing(name: string): DatasetListing {
    const versions = this.table.versions(name);
    return { dataset: this.table.get(name)!, latest: versions[0], versions: versions.length };
  }
}

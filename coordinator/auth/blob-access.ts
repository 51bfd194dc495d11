import { decodeManifest } from '../../common/manifest.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { canRead as canReadDataset } from '../datasets/dataset-access.js';
import type { Store } from '../store/types.js';
import type { Caller } from './caller.js';

/** Manifests whose blob lists are kept in memory (each a set of hashes). */
const CACHED_MANIFESTS = 512;
const ACTIVE = ['scheduled', 'starting', 'running'] as const;

/**
 * Who may read a blob: an admin; whoever uploaded it (Put); whoever may read a manifest that
 * is it or names it: the workspace and checkpoints of a session they may read, a version of a
 * dataset they may read. An agent may read what the owners of the sessions placed on its node
 * may read (it fetches their workspaces, datasets and the checkpoints they load).
 *
 * Has answers per caller with it, so a hash in the store that the caller may not read is
 * "missing" for them: the client uploads the bytes, which proves it had them.
 */
export class BlobAccess {
  private readonly manifests = new Map<string, Set<string> | undefined>();

  constructor(private readonly deps: { store: Store; blobs: BlobStore }) {}

  /** The subset of `hashes` that `caller` may read. */
  async readable(caller: Caller, hashes: readonly string[]): Promise<Set<string>> {
    if (caller.admin) return new Set(hashes);
    const users = this.actingUsers(caller);
    const out = new Set<string>();
    const rest: string[] = [];
    for (const h of hashes) {
      if (users.some((u) => this.deps.store.users.uploaded(h, u))) out.add(h);
      else rest.push(h);
    }
    if (rest.length === 0 || users.length === 0) return out;
    const want = new Set(rest);
    for (const m of this.manifestsOf(users, this.parentOf(caller))) {
      if (want.has(m)) (out.add(m), want.delete(m));
      if (want.size === 0) break;
      const names = await this.blobsOf(m);
      if (names === undefined) continue;
      for (const h of [...want]) {
        if (names.has(h)) (out.add(h), want.delete(h));
      }
      if (want.size === 0) break;
    }
    return out;
  }

  async canRead(caller: Caller, hash: string): Promise<boolean> {
    return (await this.readable(caller, [hash])).has(hash);
  }

  /** The users whose reading rights a caller uses. */
  private actingUsers(caller: Caller): string[] {
    if (!caller.node) return [caller.user];
    if (caller.session) return [caller.user];
    const { store } = this.deps;
    const sessions = new Set(store.activeAssignments().filter((a) => a.nodeId === caller.node).map((a) => a.session));
    const users = new Set<string>();
    for (const s of sessions) {
      const row = store.getSession(s);
      if (row && (ACTIVE as readonly string[]).includes(row.state)) users.add(row.user);
    }
    return [...users];
  }

  /** For an agent acting for a fork: the session it continues from (checked readable at submit). */
  private parentOf(caller: Caller): string[] {
    const parent = caller.node && caller.session ? this.deps.store.lineage.get(caller.session)?.parent : undefined;
    return parent ? [parent] : [];
  }

  /**
   * Every manifest these users may read: workspaces and checkpoints of their sessions (and of
   * `also`), dataset versions.
   */
  private *manifestsOf(users: readonly string[], also: readonly string[] = []): Generator<string> {
    const { store } = this.deps;
    const sessions = new Map<string, string>(); // name → workspace manifest
    for (const name of also) sessions.set(name, store.getSession(name)?.workspace ?? '');
    for (const u of users) {
      for (const s of store.listSessions({ user: u, limit: 1_000_000 })) sessions.set(s.name, s.workspace);
      for (const name of store.users.sharedWith(u)) {
        if (!sessions.has(name)) sessions.set(name, store.getSession(name)?.workspace ?? '');
      }
    }
    for (const [name, workspace] of sessions) {
      if (workspace) yield workspace;
      for (const c of store.checkpoints.list(name, 0)) yield c.manifest;
    }
    for (const ds of store.datasets.list()) {
      if (!users.some((u) => canReadDataset(ds, u))) continue;
      for (const v of store.datasets.versions(ds.name)) yield v.manifest;
    }
  }

  /**
   * The blobs a stored manifest names (read once, then kept in a small LRU: blobs never change);
   * undefined when it is not stored or is not a manifest.
   */
  async blobsOf(manifest: string): Promise<Set<string> | undefined> {
    if (this.manifests.has(manifest)) {
      const cached = this.manifests.get(manifest);
      this.manifests.delete(manifest);
      this.manifests.set(manifest, cached);
      return cached;
    }
    if (!this.deps.blobs.has(manifest)) return undefined; // not cached: it may be uploaded later
    let names: Set<string> | undefined;
    try {
      names = new Set(decodeManifest(await this.deps.blobs.readAll(manifest)).entries.map((e) => e.hash));
    } catch {
      names = undefined;
    }
    this.manifests.set(manifest, names);
    if (this.manifests.size > CACHED_MANIFESTS) this.manifests.delete(this.manifests.keys().next().value!);
    return names;
  }
}

import type Database from 'better-sqlite3';

/** A dataset: its owner, who may read it, and its description. */
export interface DatasetRow {
  name: string;
  owner: string;
  private: boolean;
  description: string;
  createdMs: number;
  updatedMs: number;
  readers: string[];
}

/** One committed version: a manifest blob over content blobs. */
export interface DatasetVersionRow {
  name: string;
  version: number;
  manifest: string;
  files: number;
  bytes: number;
  description: string;
  pushedBy: string;
  createdMs: number;
}

/** A version a session pinned at submit. */
export interface DatasetPinRow {
  name: string;
  version: number;
  manifest: string;
}

/** A session that is not finished and pins a version. */
export interface DatasetUse {
  session: string;
  state: string;
  version: number;
}

export type NewDatasetVersion = Omit<DatasetVersionRow, 'version'>;

/**
 * The datasets' rows in the coordinator's SQLite state. Plain reads and writes; the rules
 * (ownership, access, refusing removal while in use) live in dataset-registry.ts, which calls
 * these inside one store transaction.
 */
export interface DatasetTable {
  get(name: string): DatasetRow | undefined;
  /** Every dataset, by name. */
  list(): DatasetRow[];
  create(name: string, owner: string, isPrivate: boolean, nowMs: number): void;
  update(name: string, patch: Partial<Pick<DatasetRow, 'private' | 'description' | 'updatedMs'>>): void;
  setReaders(name: string, add: string[], remove: string[]): void;
  /** Newest first. */
  versions(name: string): DatasetVersionRow[];
  version(name: string, version: number): DatasetVersionRow | undefined;
  latest(name: string): DatasetVersionRow | undefined;
  /** The latest version of every dataset. */
  latestAll(): Map<string, DatasetVersionRow & { count: number }>;
  /** Appends version last + 1 (numbers are never reused, even after removal). */
  appendVersion(v: NewDatasetVersion): DatasetVersionRow;
  /** Removes these versions; the dataset itself (and its readers) when none is left. */
  removeVersions(name: string, versions: number[]): void;
  pin(session: string, pins: DatasetPinRow[]): void;
  pinsOf(session: string): DatasetPinRow[];
  /** Pins of every session in these states. */
  pinsInStates(states: readonly string[]): Map<string, DatasetPinRow[]>;
  /** Sessions in these states that pin a version of `name` (any version when `version` is 0). */
  uses(name: string, version: number, states: readonly string[]): DatasetUse[];
}

interface DatasetRecord { name: string; owner: string; private: number; description: string; created_ms: number; updated_ms: number }
interface VersionRecord { name: string; version: number; manifest: string; files: number; bytes: number; description: string; pushed_by: string; created_ms: number }

function toVersion(r: VersionRecord): DatasetVersionRow {
  return {
    name: r.name, version: r.version, manifest: r.manifest, files: r.files, bytes: r.bytes,
    description: r.description, pushedBy: r.pushed_by, createdMs: r.created_ms,
  };
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

export function datasetTable(db: Database.Database): DatasetTable {
  const byName = db.prepare('SELECT * FROM datasets WHERE name = ?');
  const readersOf = db.prepare('SELECT user FROM dataset_readers WHERE name = ? ORDER BY user').pluck();
  const allReaders = db.prepare('SELECT name, user FROM dataset_readers ORDER BY name, user');
  const versions = db.prepare('SELECT * FROM dataset_versions WHERE name = ? ORDER BY version DESC');
  const oneVersion = db.prepare('SELECT * FROM dataset_versions WHERE name = ? AND version = ?');
  const latestAll = db.prepare(
    `SELECT v.*, c.count FROM dataset_versions v
     JOIN (SELECT name, MAX(version) AS latest, COUNT(*) AS count FROM dataset_versions GROUP BY name) c
       ON c.name = v.name AND c.latest = v.version`,
  );
  const nextVersion = db.prepare(
    `INSERT INTO dataset_counters (name, last) VALUES (?, 1)
     ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last`,
  ).pluck();
  const insertVersion = db.prepare(
    `INSERT INTO dataset_versions (name, version, manifest, files, bytes, description, pushed_by, created_ms)
     VALUES (@name, @version, @manifest, @files, @bytes, @description, @pushedBy, @createdMs)`,
  );
  const insertPin = db.prepare('INSERT INTO session_datasets (session, position, name, version, manifest) VALUES (?, ?, ?, ?, ?)');
  const pinsOf = db.prepare('SELECT name, version, manifest FROM session_datasets WHERE session = ? ORDER BY position');

  const row = (r: DatasetRecord, readers: string[]): DatasetRow => ({
    name: r.name, owner: r.owner, private: r.private !== 0, description: r.description,
    createdMs: r.created_ms, updatedMs: r.updated_ms, readers,
  });

  return {
    get: (name) => {
      const r = byName.get(name) as DatasetRecord | undefined;
      return r ? row(r, readersOf.all(name) as string[]) : undefined;
    },
    list: () => {
      const readers = new Map<string, string[]>();
      for (const r of allReaders.all() as Array<{ name: string; user: string }>) readers.set(r.name, [...(readers.get(r.name) ?? []), r.user]);
      return (db.prepare('SELECT * FROM datasets ORDER BY name').all() as DatasetRecord[]).map((r) => row(r, readers.get(r.name) ?? []));
    },
    create: (name, owner, isPrivate, nowMs) => {
      db.prepare('INSERT INTO datasets (name, owner, private, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)').run(name, owner, isPrivate ? 1 : 0, nowMs, nowMs);
    },
    update: (name, patch) => {
      if (patch.private !== undefined) db.prepare('UPDATE datasets SET private = ? WHERE name = ?').run(patch.private ? 1 : 0, name);
      if (patch.description !== undefined) db.prepare('UPDATE datasets SET description = ? WHERE name = ?').run(patch.description, name);
      if (patch.updatedMs !== undefined) db.prepare('UPDATE datasets SET updated_ms = ? WHERE name = ?').run(patch.updatedMs, name);
    },
    setReaders: (name, add, remove) => {
      const ins = db.prepare('INSERT OR IGNORE INTO dataset_readers (name, user) VALUES (?, ?)');
      const del = db.prepare('DELETE FROM dataset_readers WHERE name = ? AND user = ?');
      for (const u of add) ins.run(name, u);
      for (const u of remove) del.run(name, u);
    },
    versions: (name) => (versions.all(name) as VersionRecord[]).map(toVersion),
    version: (name, version) => {
      const r = oneVersion.get(name, version) as VersionRecord | undefined;
      return r ? toVersion(r) : undefined;
    },
    latest: (name) => {
      const r = versions.get(name) as VersionRecord | undefined;
      return r ? toVersion(r) : undefined;
    },
    latestAll: () => {
      const out = new Map<string, DatasetVersionRow & { count: number }>();
      for (const r of latestAll.all() as Array<VersionRecord & { count: number }>) out.set(r.name, { ...toVersion(r), count: r.count });
      return out;
    },
    appendVersion: (v) => {
      const version = nextVersion.get(v.name) as number;
      insertVersion.run({ ...v, version });
      return { ...v, version };
    },
    removeVersions: (name, list) => {
      if (list.length > 0) db.prepare(`DELETE FROM dataset_versions WHERE name = ? AND version IN (${marks(list.length)})`).run(name, ...list);
      const left = db.prepare('SELECT COUNT(*) FROM dataset_versions WHERE name = ?').pluck().get(name) as number;
      if (left === 0) {
        db.prepare('DELETE FROM dataset_readers WHERE name = ?').run(name);
        db.prepare('DELETE FROM datasets WHERE name = ?').run(name);
      }
    },
    pin: (session, pins) => {
      pins.forEach((p, i) => insertPin.run(session, i, p.name, p.version, p.manifest));
    },
    pinsOf: (session) => pinsOf.all(session) as DatasetPinRow[],
    pinsInStates: (states) => {
      const out = new Map<string, DatasetPinRow[]>();
      if (states.length === 0) return out;
      const rows = db.prepare(
        `SELECT d.session, d.name, d.version, d.manifest FROM session_datasets d JOIN sessions s ON s.name = d.session
         WHERE s.state IN (${marks(states.length)}) ORDER BY d.session, d.position`,
      ).all(...states) as Array<DatasetPinRow & { session: string }>;
      for (const r of rows) out.set(r.session, [...(out.get(r.session) ?? []), { name: r.name, version: r.version, manifest: r.manifest }]);
      return out;
    },
    uses: (name, version, states) => {
      if (states.length === 0) return [];
      const sql = `SELECT d.session, s.state, d.version FROM session_datasets d JOIN sessions s ON s.name = d.session
        WHERE d.name = ? ${version > 0 ? 'AND d.version = ?' : ''} AND s.state IN (${marks(states.length)}) ORDER BY s.seq`;
      const params: unknown[] = version > 0 ? [name, version, ...states] : [name, ...states];
      return db.prepare(sql).all(...params) as DatasetUse[];
    },
  };
}

import type Database from 'better-sqlite3';

/** A manifest the state refers to, and what refers to it (for messages). */
export interface BlobRoot {
  manifest: string;
  /** e.g. `workspace of alice/scratch/1`, `dataset mnist@2`, `checkpoint alice/scratch/1/best`. */
  owner: string;
}

/** Session states whose pinned dataset versions stay live: the session may (still or again) run. */
const RUNNABLE = ['queued', 'scheduled', 'starting', 'running', 'preempted'];

export interface BlobRootMethods {
  /**
   * Every manifest the state keeps: the workspace of every kept session, every dataset version,
   * every checkpoint, and the dataset versions pinned by sessions that may still run. Read in
   * one statement each inside one transaction, so it is one consistent snapshot.
   */
  blobRoots(): BlobRoot[];
}

export function blobRootMethods(db: Database.Database): BlobRootMethods {
  const marks = RUNNABLE.map(() => '?').join(', ');
  const workspaces = db.prepare("SELECT workspace AS manifest, 'workspace of ' || name AS owner FROM sessions");
  const versions = db.prepare("SELECT manifest, 'dataset ' || name || '@' || version AS owner FROM dataset_versions");
  const checkpoints = db.prepare("SELECT manifest, 'checkpoint ' || session || '/' || name AS owner FROM checkpoints");
  const pins = db.prepare(
    `SELECT d.manifest, 'dataset ' || d.name || '@' || d.version || ' pinned by ' || d.session AS owner
     FROM session_datasets d JOIN sessions s ON s.name = d.session WHERE s.state IN (${marks})`,
  );
  return {
    blobRoots: () => db.transaction(() => [
      ...(workspaces.all() as BlobRoot[]),
      ...(versions.all() as BlobRoot[]),
      ...(checkpoints.all() as BlobRoot[]),
      ...(pins.all(...RUNNABLE) as BlobRoot[]),
    ])(),
  };
}

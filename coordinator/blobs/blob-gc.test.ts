import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import { sha256 } from '../../common/hashing.js';
import { silentLogger } from '../../common/log.js';
import { encodeManifest } from '../../common/manifest.js';
import type { BlobRoot } from '../store/blob-roots.js';
import { BlobCollector } from './blob-gc.js';
import { FileBlobStore } from './blob-store.js';
import { UploadGuard } from './upload-guard.js';

const HOUR = 3_600_000;
let dir: string;
let store: FileBlobStore;
let now: number;
const clock = { now: () => now };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-gc-'));
  store = await FileBlobStore.open(dir);
  now = Date.now();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Stores `text` as a blob whose file was last modified `ageMs` ago. */
async function put(text: string, ageMs = 2 * HOUR): Promise<string> {
  const data = Buffer.from(text);
  const hash = sha256(data);
  await store.writeChunk({ hash, size: data.length, offset: 0, data });
  const t = new Date(now - ageMs);
  utimesSync(store.sweepTarget().finalPath(hash), t, t);
  return hash;
}

/** A manifest blob over files named by their text. */
async function manifest(files: string[], ageMs = 2 * HOUR): Promise<string> {
  const entries = files.map((text, i) => ({ path: `f${i}`, mode: 0o644, size: text.length, hash: sha256(text) }));
  return put(encodeManifest(entries).bytes.toString(), ageMs);
}

function collector(roots: () => BlobRoot[], guard = new UploadGuard(clock, HOUR), graceMs = HOUR) {
  return new BlobCollector({ roots: { blobRoots: roots }, blobs: store, target: store.sweepTarget(), guard, clock, logger: silentLogger, graceMs, intervalMs: 0 });
}

interface Case {
  name: string;
  /** Blob texts and their age. */
  blobs: Record<string, number>;
  /** Manifests the state keeps (their files named by text). */
  kept: string[][];
  /** Texts leased by an upload in flight (Has). */
  leased?: string[];
  /** Texts leased then registered (a manifest over them committed). */
  registered?: string[];
  removed: string[];
}

const OLD = 2 * HOUR;
const YOUNG = 60_000;

const cases: Case[] = [
  { name: 'nothing kept: every old blob goes', blobs: { a: OLD, b: OLD }, kept: [], removed: ['a', 'b'] },
  { name: 'a kept manifest keeps its files', blobs: { a: OLD, b: OLD, c: OLD }, kept: [['a', 'b']], removed: ['c'] },
  { name: 'a file shared by a kept and a dropped manifest stays', blobs: { a: OLD, b: OLD }, kept: [['a']], removed: ['b'] },
  { name: 'younger than the grace period: spared', blobs: { a: YOUNG, b: OLD }, kept: [], removed: ['b'] },
  { name: 'leased by an upload in flight: spared', blobs: { a: OLD, b: OLD }, kept: [], leased: ['a'], removed: ['b'] },
  { name: 'registered: the lease is settled', blobs: { a: OLD, b: OLD }, kept: [], registered: ['a'], removed: ['a', 'b'] },
  { name: 'two kept manifests over the same files', blobs: { a: OLD, b: OLD }, kept: [['a'], ['a']], removed: ['b'] },
];

describe('BlobCollector: mark and sweep', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const hashes = new Map<string, string>();
      for (const [text, age] of Object.entries(c.blobs)) hashes.set(text, await put(text, age));
      const manifests = await Promise.all(c.kept.map((files) => manifest(files)));
      const guard = new UploadGuard(clock, HOUR);
      guard.lease((c.leased ?? []).concat(c.registered ?? []).map((t) => sha256(t)));
      guard.registered((c.registered ?? []).map((t) => sha256(t)));
      const gc = collector(() => manifests.map((m, i) => ({ manifest: m, owner: `dataset d@${i + 1}` })), guard);

      const dry = await gc.collect({ dryRun: true });
      expect(dry.removed.blobs).toBe(c.removed.length);
      for (const h of hashes.values()) expect(store.has(h)).toBe(true);

      const report = await gc.collect({ dryRun: false });
      const gone = [...hashes].filter(([, h]) => !store.has(h)).map(([t]) => t).sort();
      expect(gone).toEqual([...c.removed].sort());
      expect(report.removed).toEqual({ blobs: c.removed.length, bytes: c.removed.reduce((n, t) => n + t.length, 0) });
      for (const m of manifests) expect(store.has(m)).toBe(true);
      expect(report.manifests).toBe(new Set(manifests).size);
    });
  }

  it('keeps the blobs of a manifest registered while the collection runs', async () => {
    const a = await put('a');
    const b = await put('b');
    const guard = new UploadGuard(clock, HOUR);
    let calls = 0;
    // The roots are read before the registration; the registration happens before the sweep.
    const gc = collector(() => {
      calls += 1;
      queueMicrotask(() => guard.registered([a]));
      return [];
    }, guard);
    const report = await gc.collect({ dryRun: false });
    expect(calls).toBe(1);
    expect(store.has(a)).toBe(true);
    expect(store.has(b)).toBe(false);
    expect(report.spared.blobs).toBe(1);
  });

  it('a Has that finds a blob touches it: its grace period starts again', async () => {
    const a = await put('a');
    store.touch(a);
    await collector(() => []).collect({ dryRun: false });
    expect(store.has(a)).toBe(true);
  });

  it('removes an abandoned partial upload, but not one an upload holds', async () => {
    const data = Buffer.from('a partial blob that never finished');
    const hash = sha256(data);
    await store.writeChunk({ hash, size: data.length, offset: 0, data: data.subarray(0, 5) });
    const t = new Date(now - OLD);
    utimesSync(store.sweepTarget().partialPath(hash), t, t);
    const guard = new UploadGuard(clock, HOUR);
    guard.lease([hash]);
    await collector(() => [], guard).collect({ dryRun: false });
    expect(store.partialSize(hash)).toBe(5);
    now += 2 * HOUR; // the lease lapses
    const report = await collector(() => [], guard).collect({ dryRun: false });
    expect(report.partialsRemoved).toEqual({ blobs: 1, bytes: 5 });
    expect(store.partialSize(hash)).toBe(0);
  });

  it('refuses to sweep when a kept manifest is missing, and counts the failure', async () => {
    const a = await put('a');
    const gc = collector(() => [{ manifest: sha256('gone'), owner: 'checkpoint u/scratch/1/best' }]);
    const err = await gc.collect({ dryRun: false }).catch((e: unknown) => e);
    expect(isNsmlError(err, 'NSML_E_GC_UNSAFE')).toBe(true);
    expect(String((err as Error).message)).toContain('checkpoint u/scratch/1/best');
    expect(store.has(a)).toBe(true);
    expect(gc.status.failures).toBe(1);
  });
});

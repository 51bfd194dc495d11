import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../common/hashing.js';
import { encodeManifest } from '../../common/manifest.js';
import { BlobCache } from '../cache/blob-cache.js';
import { MemoryBlobSource } from '../cache/blob-source.js';
import { DatasetCache } from './dataset-cache.js';
import { datasetEnv, mountPath } from './dataset-env.js';
import type { DatasetPinSpec } from './pins.js';

let dir: string;
let source: MemoryBlobSource;
let blobs: BlobCache;
let clock = 1_000;

/** Stores a version's files and manifest in the source; returns its pin. */
function version(name: string, v: number, files: Record<string, string | [string, number]>): DatasetPinSpec {
  const entries = Object.entries(files).map(([path, f]) => {
    const [text, mode] = typeof f === 'string' ? [f, 0o644] : f;
    const data = Buffer.from(text);
    source.add(sha256(data), data);
    return { path, mode, size: data.length, hash: sha256(data) };
  });
  const m = encodeManifest(entries);
  source.add(m.hash, m.bytes);
  return { name, version: v, manifest: m.hash };
}

function open(budgetBytes = 1 << 30, src = source): DatasetCache {
  blobs = new BlobCache(join(dir, 'blobs'), src);
  return DatasetCache.open({ dir: join(dir, 'datasets'), blobs, budgetBytes, clock: { now: () => clock++ } });
}

function rank(name: string): string {
  const root = join(dir, 'sessions', name);
  mkdirSync(root, { recursive: true });
  return root;
}

const signal = new AbortController().signal;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-dscache-'));
  source = new MemoryBlobSource();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DatasetCache', () => {
  it('mounts each version read-only with hard links to the cached blobs, as DATASET_PATH shows it', async () => {
    const cache = open();
    const a = version('mnist', 1, { 'train/x.txt': 'one', 'train/deep/y.txt': 'two', 'run.sh': ['#!/bin/sh\n', 0o755] });
    const b = version('cifar', 3, { 'test/z.txt': 'three' });
    const root = rank('r1');
    await cache.mount({ key: 'r1', root, pins: [a, b], signal });
    const m = mountPath(root, 'mnist');
    expect(readFileSync(join(m, 'train/deep/y.txt'), 'utf8')).toBe('two');
    expect(statSync(join(m, 'train/x.txt')).ino).toBe(statSync(blobs.path(sha256('one'))).ino);
    expect(statSync(join(m, 'train/x.txt')).mode & 0o777).toBe(0o444);
    expect(statSync(join(m, 'run.sh')).mode & 0o777).toBe(0o555);
    expect(statSync(join(m, 'train')).mode & 0o777).toBe(0o555);
    expect(statSync(m).mode & 0o777).toBe(0o555);
    expect(readFileSync(join(mountPath(root, 'cifar'), 'test/z.txt'), 'utf8')).toBe('three');
    expect(cache.held()).toEqual(['cifar@3', 'mnist@1']);
    const env = datasetEnv([a, b], root);
    expect(env).toEqual({
      NSML_DATASET_PATH: `${m}:${mountPath(root, 'cifar')}`, DATASET_PATH: `${m}:${mountPath(root, 'cifar')}`,
      NSML_DATASET_NAME: 'mnist:cifar', NSML_DATASET_VERSION: `${a.version}:${b.version}`, DATASET_NAME: 'mnist:cifar', HAS_DATASET: '1',
    });
    expect(datasetEnv([], root)).toEqual({ HAS_DATASET: '0' });
    await cache.unmount('r1', root);
    expect(existsSync(join(root, 'datasets'))).toBe(false);
  });

  it('fetches a version once for every rank and remembers it across agent restarts', async () => {
    const a = version('mnist', 1, { 'a.txt': 'a', 'b.txt': 'a', 'c.txt': 'c' });
    await open().mount({ key: 'r1', root: rank('r1'), pins: [a], signal });
    const fetched = source.fetches.length;
    expect(fetched).toBe(3);
    const again = open();
    expect(again.held()).toEqual(['mnist@1']);
    await again.mount({ key: 'r2', root: rank('r2'), pins: [a], signal });
    expect(source.fetches.length).toBe(fetched);
  });

  it('fetches again a cached blob that a process wrote to', async () => {
    const a = version('mnist', 1, { 'a.txt': 'original' });
    const cache = open();
    await cache.mount({ key: 'r1', root: rank('r1'), pins: [a], signal });
    rmSync(blobs.path(sha256('original')));
    writeFileSync(blobs.path(sha256('original')), '');
    await cache.mount({ key: 'r2', root: rank('r2'), pins: [a], signal });
    expect(readFileSync(join(mountPath(join(dir, 'sessions', 'r2'), 'mnist'), 'a.txt'), 'utf8')).toBe('original');
  });

  it('evicts the least recently used version past the budget, never one in use', async () => {
    const cache = open(25);
    const v1 = version('d', 1, { 'f': 'x'.repeat(10) });
    const v2 = version('d', 2, { 'f': 'y'.repeat(10) });
    const v3 = version('d', 3, { 'f': 'z'.repeat(10) });
    const r1 = rank('r1');
    await cache.mount({ key: 'r1', root: r1, pins: [v1], signal });
    await cache.mount({ key: 'r2', root: rank('r2'), pins: [v2], signal });
    await cache.unmount('r2', join(dir, 'sessions', 'r2'));
    await cache.mount({ key: 'r3', root: rank('r3'), pins: [v3], signal });
    expect(cache.held()).toEqual(['d@1', 'd@3']);
    expect(existsSync(blobs.path(sha256('y'.repeat(10))))).toBe(false);
    expect(readFileSync(join(mountPath(r1, 'd'), 'f'), 'utf8')).toBe('x'.repeat(10));
  });

  it('reports a full disk clearly and leaves no partial mount or version behind', async () => {
    const a = version('big', 1, { 'train/a': 'aaaa', 'train/b': 'bbbb' });
    const full = new MemoryBlobSource(source.blobs);
    let calls = 0;
    full.fetch = async (hash, dest) => {
      calls += 1;
      if (hash === sha256('bbbb')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      await MemoryBlobSource.prototype.fetch.call(full, hash, dest);
    };
    const cache = open(1 << 30, full);
    const root = rank('r1');
    await expect(cache.mount({ key: 'r1', root, pins: [a], signal })).rejects.toMatchObject({
      code: 'NSML_E_DISK_FULL', message: expect.stringMatching(/no space left on this node while materializing dataset big@1/),
    });
    expect(calls).toBeGreaterThan(2);
    expect(existsSync(join(root, 'datasets'))).toBe(false);
    expect(cache.held()).toEqual([]);
    expect(cache.status().inUse).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('fails clearly when a blob cannot be fetched at all', async () => {
    const pin = { name: 'gone', version: 1, manifest: sha256('missing manifest') };
    const root = rank('r1');
    await expect(open().mount({ key: 'r1', root, pins: [pin], signal })).rejects.toMatchObject({
      code: 'NSML_E_BLOB_NOT_FOUND', message: expect.stringContaining('cannot materialize dataset gone@1'),
    });
    expect(existsSync(join(root, 'datasets'))).toBe(false);
  });
});

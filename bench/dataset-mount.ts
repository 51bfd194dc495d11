// Materializing a dataset version for a session on an agent: the first mount fetches every blob
// into the node's cache (here from a local folder standing in for the coordinator), later
// sessions get hard links from the cache. Figures only, no assertions.
//
//   npm run build && node dist/bench/dataset-mount.js [--files 10000] [--kib 100] [--runs 5]
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeManifest, type ManifestEntry } from '../common/manifest.js';
import { DatasetCache } from '../agent/datasets/dataset-cache.js';
import { BlobCache } from '../agent/cache/blob-cache.js';
import type { BlobSource } from '../agent/cache/blob-source.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const FILES = arg('files', 10_000);
const KIB = arg('kib', 100);
const RUNS = arg('runs', 5);

/** Blobs copied from a folder, as if downloaded. */
function folderSource(dir: string): BlobSource {
  return { fetch: (hash, dest) => copyFile(join(dir, hash), dest), close() {} };
}

const dir = mkdtempSync(join(tmpdir(), 'nsml-bench-mount-'));
try {
  const store = join(dir, 'store');
  mkdirSync(store);
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < FILES; i++) {
    const data = Buffer.alloc(KIB * 1024, i % 251);
    data.writeUInt32LE(i, 0);
    const hash = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(store, hash), data);
    entries.push({ path: `${i % 2 ? 'train' : 'test'}/class${i % 50}/${i}.bin`, mode: 0o644, size: data.length, hash });
  }
  const manifest = encodeManifest(entries);
  writeFileSync(join(store, manifest.hash), manifest.bytes);
  const blobs = new BlobCache(join(dir, 'agent', 'blobs'), folderSource(store));
  const cache = DatasetCache.open({ dir: join(dir, 'agent', 'datasets'), blobs, budgetBytes: 1024 ** 4 });
  const pin = { name: 'bench', version: 1, manifest: manifest.hash };
  const signal = new AbortController().signal;

  const mount = async (n: number): Promise<number> => {
    const root = join(dir, 'agent', 'sessions', `r${n}`);
    await mkdir(root, { recursive: true });
    const t0 = process.hrtime.bigint();
    await cache.mount({ key: `r${n}`, root, pins: [pin], signal });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  console.log(`version: ${FILES} files of ${KIB} KiB (${((FILES * KIB) / 1024).toFixed(0)} MiB)`);
  console.log(`first mount (fetch into the cache, then link): ${(await mount(0)).toFixed(0)} ms`);
  const warm: number[] = [];
  for (let i = 1; i <= RUNS; i++) warm.push(await mount(i));
  warm.sort((a, b) => a - b);
  console.log(`cached mount for a new session, ${RUNS} runs: min ${warm[0]!.toFixed(0)} ms, median ${warm[Math.floor(RUNS / 2)]!.toFixed(0)} ms, max ${warm[RUNS - 1]!.toFixed(0)} ms`);
  const t0 = process.hrtime.bigint();
  await cache.unmount('r1', join(dir, 'agent', 'sessions', 'r1'));
  console.log(`unmount (read-only tree removed): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Packing a workspace for `nsml run`: a cold pack (every file hashed) and warm re-packs of the
// unchanged tree (hashes from the cache). Figures only, no assertions.
//
//   npm run build && node dist/bench/cli-pack.js [--files 2000] [--kib 8]
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packWorkspace } from '../cli/workspace/pack.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const FILES = arg('files', 2000);
const KIB = arg('kib', 8);

const dir = mkdtempSync(join(tmpdir(), 'nsml-bench-pack-'));
const root = join(dir, 'ws');
const cacheDir = join(dir, 'cache');
try {
  const past = new Date(Date.now() - 60_000);
  for (let i = 0; i < FILES; i++) {
    const sub = join(root, `pkg${i % 40}`, `mod${i % 7}`);
    mkdirSync(sub, { recursive: true });
    const file = join(sub, `file${i}.py`);
    writeFileSync(file, `# ${i}\n`.padEnd(KIB * 1024, 'x'));
    utimesSync(file, past, past);
  }
  writeFileSync(join(root, '.gitignore'), '*.pyc\n/outputs/\n**/tmp\n');

  const time = async () => {
    const t0 = process.hrtime.bigint();
    const packed = await packWorkspace({ root, cacheDir });
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, packed };
  };
  const cold = await time();
  console.log(`cold pack: ${FILES} files, ${(cold.packed.totalBytes / 1024 / 1024).toFixed(1)} MiB, ${cold.packed.hashedFiles} hashed in ${cold.ms.toFixed(0)} ms`);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await time();
    if (r.packed.manifest.hash !== cold.packed.manifest.hash) throw new Error('the manifest changed on an unchanged tree');
    warm.push(r.ms);
    if (i === 0) console.log(`warm pack: ${r.packed.hashedFiles} files hashed`);
  }
  warm.sort((a, b) => a - b);
  console.log(`warm re-pack (unchanged tree), 5 runs: min ${warm[0]!.toFixed(0)} ms, median ${warm[2]!.toFixed(0)} ms, max ${warm[4]!.toFixed(0)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

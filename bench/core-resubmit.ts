// Resubmitting an unchanged workspace of 2,000 files to a real local cluster (one coordinator,
// one agent): the first `nsml run --detach` uploads everything, every later one must upload
// 0 bytes. Times each later `nsml run --detach` as a user sees it (CLI process spawned to
// exited) and, in this process, the pack (walk + hash cache) and Has parts alone. Each
// session is left to end before the next run, so that its workspace being materialized on
// the agent does not share the CPU with the run being timed.
// Targets: 0 bytes uploaded, and <= 300 ms. Figures only.
//
//   npm run build && node dist/bench/core-resubmit.js [--files 2000] [--kib 8] [--runs 5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '../cli/client.js';
import { createBlobUploader } from '../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../cli/workspace/pack.js';
import { BenchCluster, NSML_BIN, arg, machine, median, printTable } from './core-cluster.js';

const FILES = arg('files', 2000);
const KIB = arg('kib', 8);
const RUNS = arg('runs', 5);

interface RunJson {
  name: string;
  uploadedFiles: number;
  uploadedBytes: number;
  unchangedFiles: number;
}

/** FILES files of KIB KiB in nested folders (as bench/cli-pack.ts lays them out), plus main.py. */
function writeWorkspace(root: string): void {
  const past = new Date(Date.now() - 60_000);
  for (let i = 0; i < FILES; i++) {
    const sub = join(root, `pkg${i % 40}`, `mod${i % 7}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `file${i}.py`), `# ${i}\n`.padEnd(KIB * 1024, 'x'));
    utimesSync(join(sub, `file${i}.py`), past, past);
  }
  writeFileSync(join(root, 'main.py'), 'print("resubmitted")\n');
  utimesSync(join(root, 'main.py'), past, past);
}

async function run(cluster: BenchCluster, client: CoordinatorClient, ws: string): Promise<RunJson & { ms: number }> {
  const r = await cluster.nsml(['run', '--detach', '--json'], ws);
  if (r.exitCode !== 0) throw new Error(`nsml run exited ${r.exitCode}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as RunJson;
  const end = await client.waitSession(out.name, 60_000);
  if (end.state !== 'succeeded') throw new Error(`${out.name} ended ${end.state}: ${end.reason}`);
  return { ...out, ms: r.ms };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const value = await fn();
  return [performance.now() - t, value];
}

/** pack (warm hash cache, as the CLI keeps it) and Has, in this process, RUNS times each. */
async function packAndHas(cluster: BenchCluster, ws: string): Promise<{ pack: number[]; has: number[]; hasFresh: number[]; missing: number; hashes: number }> {
  const out = { pack: [] as number[], has: [] as number[], hasFresh: [] as number[], missing: -1, hashes: 0 };
  const client = cluster.client();
  try {
    await client.ready();
    for (let i = 0; i < RUNS; i++) {
      const [packMs, packed] = await timed(() => packWorkspace({ root: ws, cacheDir: join(cluster.home, 'cache', 'hashes') }));
      const hashes = [...packed.sources.keys(), packed.manifest.hash];
      const [hasMs, missing] = await timed(() => createBlobUploader(client).missing(hashes));
      const fresh = cluster.client();
      const [freshMs] = await timed(() => createBlobUploader(fresh).missing(hashes));
      fresh.close();
      out.pack.push(packMs);
      out.has.push(hasMs);
      out.hasFresh.push(freshMs);
      out.missing = missing.length;
      out.hashes = hashes.length;
    }
  } finally {
    client.close();
  }
  return out;
}

/** Start-to-exit of a process, median of RUNS. */
function processMs(cluster: BenchCluster, args: string[]): number {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    spawnSync(process.execPath, args, { env: cluster.env(), stdio: 'ignore' });
    xs.push(performance.now() - t);
  }
  return median(xs);
}

async function main(): Promise<void> {
  console.log(machine());
  const cluster = await BenchCluster.start({ agents: 1 });
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-resubmit-'));
  const client = cluster.client();
  try {
    writeWorkspace(ws);
    const first = await run(cluster, client, ws);
    const again: Array<RunJson & { ms: number }> = [];
    for (let i = 0; i < RUNS; i++) again.push(await run(cluster, client, ws));
    const parts = await packAndHas(cluster, ws);
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    const sent = again.reduce((n, r) => n + r.uploadedBytes, 0);
    console.log(`\nworkspace: ${FILES + 1} files, ${((FILES * KIB) / 1024).toFixed(1)} MiB; each resubmission timed ${RUNS} times (median, min-max)`);
    printTable([
      ['first nsml run --detach: uploaded', `${first.uploadedFiles} files, ${(first.uploadedBytes / 2 ** 20).toFixed(1)} MiB in ${ms(first.ms)}`],
      ['later runs: bytes uploaded (all runs)', `${sent} bytes, ${again.reduce((n, r) => n + r.uploadedFiles, 0)} files`, '0'],
      ['later nsml run --detach, spawn to exit', `${ms(median(again.map((r) => r.ms)))} (${ms(Math.min(...again.map((r) => r.ms)))}-${ms(Math.max(...again.map((r) => r.ms)))})`, '<= 300 ms'],
      ['  pack (walk, hash cache), in process', ms(median(parts.pack))],
      [`  Has of ${parts.hashes} hashes (${parts.missing} missing), connected client`, ms(median(parts.has))],
      ['  pack + Has', ms(median(parts.pack.map((p, i) => p + parts.has[i]!))), '<= 300 ms'],
      ['  Has on a fresh client (connect included)', ms(median(parts.hasFresh))],
      ['  floor: node -e "" (bare Node start)', ms(processMs(cluster, ['-e', '']))],
      ['  floor: nsml --help (CLI loaded, no RPC)', ms(processMs(cluster, [NSML_BIN, '--help']))],
      ['  floor: nsml ps (CLI, connect, one RPC)', ms(processMs(cluster, [NSML_BIN, 'ps']))],
    ]);
  } finally {
    client.close();
    await cluster.close();
    rmSync(ws, { recursive: true, force: true });
  }
}

await main();

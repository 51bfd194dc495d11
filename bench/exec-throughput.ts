// Terminals into sessions on a warm local cluster (one coordinator, one agent): how long
// `nsml exec S -- true` takes end to end (node start-up of the CLI included), and how fast bytes
// go through `nsml exec` each way (CLI -> coordinator -> agent -> helper -> command and back),
// beside the same bytes through a local pipe. Figures only.
//
//   npm run build && NSML_AGENT_ISOLATION=none node dist/bench/exec-throughput.js [--runs 10] [--mib 64]
// (as root, NSML_AGENT_ISOLATION=none runs the session as root; without it the agent wants to create session users)
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchCluster, NSML_BIN, arg, machine, printTable, quantile, waitUntil, writeFiles } from './core-cluster.js';

const RUNS = arg('runs', 10);
const MIB = arg('mib', 64);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await fn();
  return performance.now() - began;
}

const rate = (bytes: number, ms: number) => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;

async function main(): Promise<void> {
  const cluster = await BenchCluster.start({ agents: 1 });
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-exec-'));
  try {
    writeFiles(ws, { 'main.py': 'import time\nprint("up", flush=True)\nwhile True:\n    time.sleep(1)\n' });
    const run = await cluster.nsml(['run', '--detach', '--json'], ws);
    if (run.exitCode !== 0) throw new Error(`nsml run failed: ${run.stderr}`);
    const name = (JSON.parse(run.stdout) as { name: string }).name;
    const env = cluster.env();
    const nsml = (args: string[], input?: Buffer) => execa(process.execPath, [NSML_BIN, ...args], { env, input, encoding: 'buffer', stripFinalNewline: false });
    await waitUntil(async () => (await nsml(['exec', name, '--', 'true']).then(() => true, () => false)), 'the session to run', 60_000);

    const trues: number[] = [];
    for (let i = 0; i < RUNS; i++) trues.push(await timed(() => nsml(['exec', name, '--', 'true'])));
    const bytes = MIB * 1024 * 1024;
    const down = await timed(async () => {
      const r = await nsml(['exec', name, '--', 'head', '-c', String(bytes), '/dev/zero']);
      if (r.stdout.length !== bytes) throw new Error(`got ${r.stdout.length} bytes down, not ${bytes}`);
    });
    const data = Buffer.alloc(bytes, 7);
    const up = await timed(async () => {
      const r = await nsml(['exec', name, '--', 'wc', '-c'], data);
      const counted = Buffer.from(r.stdout).toString().trim();
      if (Number(counted) !== bytes) throw new Error(`the command got ${counted} bytes, not ${bytes}`);
    });
    const both = await timed(async () => {
      const r = await nsml(['exec', name, '--', 'cat'], data);
      if (!Buffer.from(r.stdout).equals(data)) throw new Error('cat did not echo the bytes back unchanged');
    });
    const local = await timed(async () => execa('cat', { input: data, encoding: 'buffer' }));
    console.log(`exec throughput on ${machine()} (${MIB} MiB each way, ${RUNS} runs of true)`);
    printTable([
      ['nsml exec S -- true p50', `${quantile(trues, 0.5).toFixed(0)} ms`],
      ['nsml exec S -- true max', `${Math.max(...trues).toFixed(0)} ms`],
      ['down (head -c N /dev/zero)', rate(bytes, down)],
      ['up (stdin to wc -c)', rate(bytes, up)],
      ['round trip (cat)', rate(bytes, both)],
      ['local pipe (cat), for scale', rate(bytes, local)],
    ]);
  } finally {
    rmSync(ws, { recursive: true, force: true });
    await cluster.close();
  }
}

await main();

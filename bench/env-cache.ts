// What a session's environment costs at start (agent/env), on a warm local cluster: one
// coordinator and one agent, the workspace already uploaded, sessions submitted one at a time
// and followed through the Logs RPC (as `nsml run` does). Three kinds of session:
//  - none:   no requirements.txt, setup.py or pyproject.toml (no virtual environment);
//  - cached: a requirements.txt whose environment the node already built;
//  - built:  a requirements.txt never seen before (a comment line differs each time), so the
//            agent creates the virtual environment and pip installs a local wheel (no network).
// Per session: submit → running (the coordinator's event) and submit → the script's first line
// at the client (after the environment's own log lines). Target: cached adds <= 200 ms over none.
// Figures only.
//
//   npm run build && node dist/bench/env-cache.js [--reps 15]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '../cli/client.js';
import { followLogs } from '../cli/log-follow.js';
import { createBlobUploader } from '../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../cli/workspace/pack.js';
import { uploadWorkspace } from '../cli/workspace/upload.js';
import { BenchCluster, ROOT, arg, machine, median, printTable, writeFiles } from './core-cluster.js';

const REPS = arg('reps', 15);
const ENTRY = 'print("hello from the session", flush=True)\n';

interface Sample {
  running: number;
  firstLine: number;
}

async function upload(client: CoordinatorClient, files: Record<string, string>): Promise<string> {
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-env-ws-'));
  try {
    writeFiles(ws, files);
    return (await uploadWorkspace(await packWorkspace({ root: ws }), createBlobUploader(client))).workspace;
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

async function runOne(client: CoordinatorClient, workspace: string): Promise<Sample> {
  const t0 = Date.now();
  const submitted = await client.submit({ entry: 'main.py', workspace });
  let firstLine = NaN;
  await followLogs(client, {
    name: submitted.name, follow: true,
    onLine: (l: { text: string }) => {
      if (Number.isNaN(firstLine) && l.text === 'hello from the session') firstLine = Date.now() - t0;
    },
  });
  const full = await client.getSession(submitted.name);
  if (full.state !== 'succeeded') throw new Error(`${submitted.name} ended ${full.state}: ${full.reason}`);
  return { running: (full.events.find((e) => e.state === 'running')?.tsMs ?? NaN) - t0, firstLine };
}

function row(label: string, xs: Sample[], base?: Sample[], target?: string): [string, string, string?] {
  const m = (f: (s: Sample) => number, of: Sample[]) => median(of.map(f));
  const extra = base ? `  (+${(m((s) => s.running, xs) - m((s) => s.running, base)).toFixed(0)} ms over none)` : '';
  return [label, `running ${m((s) => s.running, xs).toFixed(0).padStart(5)} ms   first line ${m((s) => s.firstLine, xs).toFixed(0).padStart(5)} ms${extra}`, target];
}

async function main(): Promise<void> {
  console.log(machine());
  const wheels = mkdtempSync(join(tmpdir(), 'nsml-bench-wheels-'));
  execFileSync('python3', [join(ROOT, 'agent', 'env', 'test-fixtures', 'make-wheel.py'), wheels, 'bench-pkg', '1.0']);
  const requirements = (tag: string) => `--no-index\n--find-links ${wheels}\nbench-pkg\n# ${tag}\n`;
  const cluster = await BenchCluster.start({ agents: 1 });
  const client = cluster.client();
  try {
    const none = await upload(client, { 'main.py': ENTRY });
    const cachedWs = await upload(client, { 'main.py': ENTRY, 'requirements.txt': requirements('cached') });
    await runOne(client, none);
    await runOne(client, cachedWs); // builds it once
    const samples = { none: [] as Sample[], cached: [] as Sample[], built: [] as Sample[] };
    for (let i = 0; i < REPS; i++) {
      samples.none.push(await runOne(client, none));
      samples.cached.push(await runOne(client, cachedWs));
      samples.built.push(await runOne(client, await upload(client, { 'main.py': ENTRY, 'requirements.txt': requirements(`built ${i} ${Date.now()}`) })));
    }
    console.log(`\nsubmit → running and submit → the script's first line, median of ${REPS} sessions each (interleaved):`);
    printTable([
      row('no environment declared', samples.none),
      row('environment cached on the node', samples.cached, samples.none, '<= +200 ms over none'),
      row('environment built (venv + pip, one local wheel)', samples.built, samples.none),
    ]);
  } finally {
    client.close();
    await cluster.close();
    rmSync(wheels, { recursive: true, force: true });
  }
}

await main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});

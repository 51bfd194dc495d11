// Submit-to-running latency on a warm local cluster: one coordinator and one agent, both
// already running, the workspace already uploaded. Sessions of a tiny Python entry are
// submitted one at a time through CoordinatorClient (as `nsml run` does) and followed through
// the Logs RPC to their end. Per session:
//  - submit → running, from the coordinator's own `running` event (same machine clock; the
//    moment any client could see it); then, as a cross-check, --poll more sessions as seen by
//    a client polling Get every --poll-ms (kept apart: the polling loads the coordinator);
//  - submit → first log line, as the Logs stream delivers it to the client;
//  - where the time goes: the queued/scheduled/starting/running events in between.
// Target: submit → running p50 <= 150 ms. Figures only.
//
//   npm run build && node dist/bench/core-submit-latency.js [--sessions 100] [--warmup 5] [--poll 20] [--poll-ms 5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '../cli/client.js';
import { followLogs } from '../cli/log-follow.js';
import { createBlobUploader } from '../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../cli/workspace/pack.js';
import { uploadWorkspace } from '../cli/workspace/upload.js';
import { BenchCluster, ROOT, arg, machine, printTable, quantile, sleep, writeFiles } from './core-cluster.js';

const SESSIONS = arg('sessions', 100);
const WARMUP = arg('warmup', 5);
const POLLED = arg('poll', 20);
const POLL_MS = arg('poll-ms', 5);
const ENTRY = 'print("hello from the session", flush=True)\n';

/** Milliseconds from the submit call, per step; NaN when the step was not seen. */
interface Sample {
  submitReturned: number;
  queued: number;
  scheduled: number;
  starting: number;
  running: number;
  firstLine: number;
  ended: number;
  polledRunning: number;
}

async function pollUntilRunning(client: CoordinatorClient, name: string, t0: number): Promise<number> {
  for (;;) {
    const s = await client.getSession(name);
    if (s.state === 'running') return Date.now() - t0;
    if (['succeeded', 'failed', 'stopped', 'lost', 'preempted'].includes(s.state)) return NaN;
    await sleep(POLL_MS);
  }
}

async function runOne(client: CoordinatorClient, workspace: string, poll: boolean): Promise<Sample> {
  const t0 = Date.now();
  const submitted = await client.submit({ entry: 'main.py', workspace });
  const submitReturned = Date.now() - t0;
  const polled = poll ? pollUntilRunning(client, submitted.name, t0) : Promise.resolve(NaN);
  let firstLine = NaN;
  await followLogs(client, { name: submitted.name, follow: true, onLine: () => (firstLine = Number.isNaN(firstLine) ? Date.now() - t0 : firstLine) });
  const polledRunning = await polled;
  const full = await client.getSession(submitted.name);
  if (full.state !== 'succeeded') throw new Error(`${submitted.name} ended ${full.state}: ${full.reason}`);
  const at = (state: string) => {
    const e = full.events.find((x) => x.state === state);
    return e ? e.tsMs - t0 : NaN;
  };
  return {
    submitReturned, queued: at('queued'), scheduled: at('scheduled'), starting: at('starting'), running: at('running'),
    firstLine, ended: at('succeeded'), polledRunning,
  };
}

/** Start-to-exit of `python3 ARGS`, median of `runs`. */
function pythonMs(args: string[], runs = 15): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    spawnSync('python3', args, { stdio: 'ignore' });
    xs.push(performance.now() - t);
  }
  return quantile(xs, 0.5);
}

function fmt(xs: number[]): string {
  const seen = xs.filter((x) => !Number.isNaN(x));
  if (seen.length === 0) return 'n/a';
  return `p50 ${quantile(seen, 0.5).toFixed(0)} ms  p99 ${quantile(seen, 0.99).toFixed(0)} ms`;
}

function report(samples: Sample[], polled: Sample[]): void {
  const col = (f: (s: Sample) => number) => samples.map(f);
  console.log(`\nsubmit → running, ${samples.length} sessions one at a time (1 coordinator, 1 agent, warm):`);
  printTable([
    ['submit → running (coordinator event)', fmt(col((s) => s.running)), 'p50 <= 150 ms'],
    ['submit → first log line at the client', fmt(col((s) => s.firstLine))],
    ['submit → succeeded', fmt(col((s) => s.ended))],
  ]);
  if (polled.length > 0) {
    console.log(`\ncross-check, ${polled.length} more sessions with a client polling Get every ${POLL_MS} ms:`);
    printTable([
      ['submit → running seen by polling', fmt(polled.map((s) => s.polledRunning))],
      ['submit → running (coordinator event), same sessions', fmt(polled.map((s) => s.running))],
    ]);
  }
  console.log('\nwhere the time goes (each step from the previous one):');
  printTable([
    ['Submit RPC returned', fmt(col((s) => s.submitReturned))],
    ['submit → queued (stored)', fmt(col((s) => s.queued))],
    ['queued → scheduled (scheduling pass)', fmt(col((s) => s.scheduled - s.queued))],
    ['scheduled → starting (start sent)', fmt(col((s) => s.starting - s.scheduled))],
    ['starting → running (agent: hooks, supervisor up)', fmt(col((s) => s.running - s.starting))],
    ['running → first log line', fmt(col((s) => s.firstLine - s.running))],
    ['first log line → succeeded', fmt(col((s) => s.ended - s.firstLine))],
  ]);
  const supervisor = join(ROOT, 'agent', 'runner', 'supervisor.py');
  console.log('\nreference, on this machine (median start-to-exit):');
  printTable([
    ['python3 -c pass', `${pythonMs(['-c', 'pass']).toFixed(0)} ms`],
    ['python3 importing what supervisor.py imports', `${pythonMs(['-c', 'import json, os, select, signal, struct, subprocess, sys, time, ctypes']).toFixed(0)} ms`],
    ['python3 supervisor.py (usage error exit)', `${pythonMs([supervisor]).toFixed(0)} ms`],
  ]);
}

async function main(): Promise<void> {
  console.log(machine());
  const cluster = await BenchCluster.start(1);
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-ws-'));
  const client = cluster.client();
  try {
    writeFiles(ws, { 'main.py': ENTRY });
    const packed = await packWorkspace({ root: ws });
    const { workspace } = await uploadWorkspace(packed, createBlobUploader(client));
    for (let i = 0; i < WARMUP; i++) await runOne(client, workspace, false);
    const samples: Sample[] = [];
    for (let i = 0; i < SESSIONS; i++) samples.push(await runOne(client, workspace, false));
    const polled: Sample[] = [];
    for (let i = 0; i < POLLED; i++) polled.push(await runOne(client, workspace, true));
    report(samples, polled);
  } finally {
    client.close();
    await cluster.close();
    rmSync(ws, { recursive: true, force: true });
  }
}

await main();

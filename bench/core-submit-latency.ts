// Submit-to-running latency on a warm local cluster: one coordinator and one agent, both
// already running, the workspace already uploaded. Sessions of a tiny Python entry are
// submitted one at a time through CoordinatorClient (as `nsml run` does) and followed through
// the Logs RPC (cli/log-follow.ts, as `nsml run` does) to their end. Per session:
//  - submit → running, from the coordinator's own `running` event (same machine clock: the
//    moment any client could see it); a cross-check pass also polls Get every --poll-ms;
//  - submit → first log line, when the Logs stream delivers it to the client;
//  - where the time goes: the coordinator's events, and the agent's rank files (rank.json,
//    launch.json, supervisor.json, child.json: their mtimes; output.log: its first frame's time).
// Runs twice when `python3` on PATH is a wrapper (a pyenv shim, say): once with the agent
// finding the interpreter itself first on its PATH, once with PATH as it is.
// Target: submit → running p50 <= 150 ms. Figures only.
//
//   npm run build && node dist/bench/core-submit-latency.js [--sessions 100] [--path-sessions 30] [--poll 20] [--poll-ms 5]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '../cli/client.js';
import { followLogs } from '../cli/log-follow.js';
import { createBlobUploader } from '../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../cli/workspace/pack.js';
import { uploadWorkspace } from '../cli/workspace/upload.js';
import { rankDirName } from '../agent/runner/session-dir.js';
import { BenchCluster, ROOT, arg, machine, printTable, quantile, sleep, writeFiles } from './core-cluster.js';

const SESSIONS = arg('sessions', 100);
const PATH_SESSIONS = arg('path-sessions', 30);
const WARMUP = arg('warmup', 5);
const POLLED = arg('poll', 20);
const POLL_MS = arg('poll-ms', 5);
const ENTRY = 'print("hello from the session", flush=True)\n';

/** Milliseconds from the moment before the Submit call, per step; NaN when not seen. */
interface Sample {
  submitReturned: number;
  queued: number;
  scheduled: number;
  starting: number;
  running: number;
  firstLine: number;
  ended: number;
  polledRunning: number;
  agent: AgentTimes;
}

/** When the agent and the supervisor wrote each file of the rank's folder. */
interface AgentTimes {
  rankJson: number;
  launchJson: number;
  supervisorJson: number;
  childJson: number;
  firstOutput: number;
}

function agentTimes(sessionsDir: string, name: string, epoch: number, t0: number): AgentTimes {
  const dir = join(sessionsDir, rankDirName(name, epoch, 0));
  const mtime = (file: string) => {
    try {
      return statSync(join(dir, file)).mtimeMs - t0;
    } catch {
      return NaN;
    }
  };
  return { rankJson: mtime('rank.json'), launchJson: mtime('launch.json'), supervisorJson: mtime('supervisor.json'), childJson: mtime('child.json'), firstOutput: firstFrameMs(join(dir, 'output.log')) - t0 };
}

/** The time in output.log's first frame header (stream byte, uint64 ms, uint32 length). */
function firstFrameMs(path: string): number {
  try {
    const fd = openSync(path, 'r');
    const header = Buffer.alloc(13);
    const n = readSync(fd, header, 0, 13, 0);
    closeSync(fd);
    return n === 13 ? Number(header.readBigUInt64BE(1)) : NaN;
  } catch {
    return NaN;
  }
}

async function pollUntilRunning(client: CoordinatorClient, name: string, t0: number): Promise<number> {
  for (;;) {
    const s = await client.getSession(name);
    if (s.state === 'running') return Date.now() - t0;
    if (!['queued', 'scheduled', 'starting'].includes(s.state)) return NaN;
    await sleep(POLL_MS);
  }
}

async function runOne(cluster: BenchCluster, client: CoordinatorClient, workspace: string, poll: boolean): Promise<Sample> {
  const t0 = Date.now();
  const submitted = await client.submit({ entry: 'main.py', workspace });
  const submitReturned = Date.now() - t0;
  const polled = poll ? pollUntilRunning(client, submitted.name, t0) : Promise.resolve(NaN);
  let firstLine = NaN;
  await followLogs(client, { name: submitted.name, follow: true, onLine: () => (firstLine = Number.isNaN(firstLine) ? Date.now() - t0 : firstLine) });
  const polledRunning = await polled;
  const full = await client.getSession(submitted.name);
  if (full.state !== 'succeeded') throw new Error(`${submitted.name} ended ${full.state}: ${full.reason}`);
  const at = (state: string) => (full.events.find((x) => x.state === state)?.tsMs ?? NaN) - t0;
  return {
    submitReturned, queued: at('queued'), scheduled: at('scheduled'), starting: at('starting'), running: at('running'),
    firstLine, ended: at('succeeded'), polledRunning, agent: agentTimes(join(cluster.agentDir('node1'), 'sessions'), full.name, full.epoch, t0),
  };
}

function fmt(xs: number[]): string {
  const seen = xs.filter((x) => !Number.isNaN(x));
  if (seen.length === 0) return 'n/a';
  return `p50 ${quantile(seen, 0.5).toFixed(0).padStart(3)} ms   p99 ${quantile(seen, 0.99).toFixed(0).padStart(3)} ms`;
}

function report(title: string, samples: Sample[], polled: Sample[]): void {
  const col = (f: (s: Sample) => number) => fmt(samples.map(f));
  console.log(`\n${title}: ${samples.length} sessions, one at a time`);
  printTable([
    ['submit → running (coordinator event)', col((s) => s.running), 'p50 <= 150 ms'],
    ['submit → first log line at the client', col((s) => s.firstLine)],
    ['submit → succeeded', col((s) => s.ended)],
  ]);
  if (polled.length > 0) {
    printTable([
      [`submit → running seen polling Get every ${POLL_MS} ms (${polled.length} more)`, fmt(polled.map((s) => s.polledRunning))],
      ['submit → running (coordinator event), same sessions', fmt(polled.map((s) => s.running))],
    ]);
  }
  console.log('  where the time goes (each step from the one before; the agent\'s file times are coarse, ±4 ms):');
  printTable([
    ['  Submit RPC returned to the client', col((s) => s.submitReturned)],
    ['  submit → queued (stored)', col((s) => s.queued)],
    ['  queued → scheduled (scheduling pass)', col((s) => s.scheduled - s.queued)],
    ['  scheduled → starting (start sent down the stream)', col((s) => s.starting - s.scheduled)],
    ['  starting → agent launched the rank (rank.json)', col((s) => s.agent.rankJson - s.starting)],
    ['  materialize + prestart hooks (launch.json)', col((s) => s.agent.launchJson - s.agent.rankJson)],
    ['  supervisor python up (supervisor.json)', col((s) => s.agent.supervisorJson - s.agent.launchJson)],
    ['  supervisor.json → running event at the coordinator', col((s) => s.running - s.agent.supervisorJson)],
    ['  supervisor.json → user process spawned (child.json)', col((s) => s.agent.childJson - s.agent.supervisorJson)],
    ['  user python up, first output read (output.log)', col((s) => s.agent.firstOutput - s.agent.childJson)],
    ['  first output → line at the client (agent pump, ingest, Logs)', col((s) => s.firstLine - s.agent.firstOutput)],
  ]);
}

/** Start-to-exit of `python ARGS`, median of `runs`. */
function pythonMs(python: string, args: string[], runs = 15): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    spawnSync(python, args, { stdio: 'ignore' });
    xs.push(performance.now() - t);
  }
  return quantile(xs, 0.5);
}

function pythonReference(direct: string): void {
  const supervisor = join(ROOT, 'agent', 'runner', 'supervisor.py');
  console.log('\nreference, Python start-up on this machine (median start-to-exit):');
  const rows: Array<[string, string]> = [];
  for (const [label, python] of [['python3 on PATH', 'python3'], ['the interpreter itself', direct]] as const) {
    rows.push([`${label}: -c pass`, `${pythonMs(python, ['-c', 'pass']).toFixed(0)} ms`]);
    rows.push([`${label}: -S -c pass (no site)`, `${pythonMs(python, ['-S', '-c', 'pass']).toFixed(0)} ms`]);
    rows.push([`${label}: supervisor.py (usage error exit)`, `${pythonMs(python, [supervisor]).toFixed(0)} ms`]);
  }
  printTable(rows);
}

async function measure(title: string, sessions: number, polled: number, agentPath?: string): Promise<void> {
  const cluster = await BenchCluster.start({ agents: 1, agentPath });
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-ws-'));
  const client = cluster.client();
  try {
    writeFiles(ws, { 'main.py': ENTRY });
    const { workspace } = await uploadWorkspace(await packWorkspace({ root: ws }), createBlobUploader(client));
    for (let i = 0; i < WARMUP; i++) await runOne(cluster, client, workspace, false);
    const samples: Sample[] = [];
    for (let i = 0; i < sessions; i++) samples.push(await runOne(cluster, client, workspace, false));
    const polls: Sample[] = [];
    for (let i = 0; i < polled; i++) polls.push(await runOne(cluster, client, workspace, true));
    report(title, samples, polls);
  } finally {
    client.close();
    await cluster.close();
    rmSync(ws, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(machine());
  const direct = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  const onPath = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
  const wrapped = realpathSync(onPath) !== realpathSync(direct);
  const bin = mkdtempSync(join(tmpdir(), 'nsml-bench-bin-'));
  try {
    symlinkSync(direct, join(bin, 'python3'));
    await measure(`agent runs ${direct}`, SESSIONS, POLLED, bin);
    if (wrapped && PATH_SESSIONS > 0) await measure(`agent runs python3 as on PATH (${onPath}, a wrapper)`, PATH_SESSIONS, 0);
    pythonReference(direct);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

await main();

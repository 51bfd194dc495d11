/**
 * A compressed slice of a trace replayed through the real coordinator (real gRPC, SQLite,
 * scheduling loop, preemption and checkpoint registration) with simulated agents whose
 * processes only pretend to run for the trace's durations, next to the pure simulation of the
 * same slice. The coordinator runs on a clock `--speed` times faster than the wall clock, so
 * its policy's thresholds (hours) hold. Prints both figures and their difference.
 *
 *   npm run build && node dist/bench/sim-coordinator-replay.js [--trace cluster02] [--skip 0]
 *     [--jobs 60] [--nodes 2] [--gpus-per-node 8] [--speed 3600] [--policy default]
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { uploadBytes } from '../common/blobs/upload.js';
import { readFileSync } from 'node:fs';
import { CLIENT_CHANNEL_OPTIONS, deadline, tokenMetadata } from '../common/grpc/options.js';
import { adminTokenPath } from '../coordinator/auth/bootstrap.js';
import { silentLogger } from '../common/log.js';
import { encodeManifest } from '../common/manifest.js';
import { loadProto } from '../common/proto/load.js';
import type { Session__Output, SessionServiceClient, SubmitRequest } from '../common/proto/types.js';
import { startCoordinator } from '../coordinator/main.js';
import { admissible, policiesThatReadDurations } from '../coordinator/scheduler/index.js';
import type { JobOutcome, SimResult } from '../sim/metrics.js';
import { summarize } from '../sim/metrics.js';
import { simulate } from '../sim/simulator.js';
import { readTrace, type TraceJob } from '../sim/trace.js';
import { JobBook } from './replay/job-book.js';
import { ScaledClock } from './replay/scaled-clock.js';
import { SimAgent } from './replay/sim-agent.js';
import { tracesDir } from './sim-trace-dir.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const O = {
  trace: arg('trace', 'cluster02'),
  skip: Number(arg('skip', '0')),
  jobs: Number(arg('jobs', '60')),
  nodes: Number(arg('nodes', '2')),
  gpusPerNode: Number(arg('gpus-per-node', '8')),
  speed: Number(arg('speed', '3600')),
  policy: arg('policy', 'default'),
  timeoutS: Number(arg('timeout-s', '900')),
};
/** The simulator's defaults, which the simulated processes reproduce. */
const CHECKPOINT_MS = 30 * 60_000;
const RESTART_MS = 2 * 60_000;
const GRACE_MS = 60_000;
const USER = 'trace';

function slice(all: TraceJob[]): TraceJob[] {
  const shapes = Array.from({ length: O.nodes }, (_, i) => ({ id: `n${i}`, gpus: Array.from({ length: O.gpusPerNode }, (_, g) => g), unusableGpus: [], cpus: 0, memoryMib: 0, schedulable: true }));
  return [...all]
    .sort((a, b) => a.submissionS - b.submissionS)
    .filter((j) => j.gpus > 0 && admissible({ gpus: j.gpus, gpusPerNode: 0, cpus: 1 }, shapes).ok)
    .slice(O.skip, O.skip + O.jobs)
    .map((j) => ({ ...j, user: USER, priority: 0 }));
}

/** The trace user's token (the coordinator's first admin: `admins: [USER]`). */
let token = '';

function unary<Res>(fn: (md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown): Promise<Res> {
  const md = tokenMetadata(token);
  return new Promise((resolve, reject) => fn(md, { deadline: deadline(30_000) }, (err, res) => (err ? reject(err) : resolve(res!))));
}

async function replay(jobs: TraceJob[]): Promise<{ result: SimResult; wallS: number; checkpointFailures: number; passes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-replay-'));
  const clock = new ScaledClock(1_700_000_000_000, O.speed);
  const coordinator = await startCoordinator({
    dataDir: dir, port: 0, clock, policy: O.policy, stopGraceMs: GRACE_MS, heartbeatTimeoutMs: 1e12, scheduleIntervalMs: 100, logger: silentLogger, admins: [USER],
  });
  token = readFileSync(adminTokenPath(dir), 'utf8').trim();
  const p = loadProto();
  const creds = grpc.credentials.createInsecure();
  const sessions: SessionServiceClient = new p.nsml.v1.SessionService(coordinator.address, creds, CLIENT_CHANNEL_OPTIONS);
  const blobs = new p.nsml.v1.BlobService(coordinator.address, creds, CLIENT_CHANNEL_OPTIONS);
  const checkpoints = new p.nsml.v1.CheckpointService(coordinator.address, creds, CLIENT_CHANNEL_OPTIONS);
  const agents: SimAgent[] = [];
  try {
    const up = { metadata: tokenMetadata(token) };
    const main = await uploadBytes(blobs, Buffer.from('pass\n'), up);
    const workspace = (await uploadBytes(blobs, encodeManifest([{ path: 'main.py', mode: 0o644, size: 5, hash: main.hash }]).bytes, up)).hash;
    const manifest = (await uploadBytes(blobs, encodeManifest([]).bytes, up)).hash;
    const book = new JobBook();
    for (const j of jobs) book.add(j.id, { durationMs: Math.round(j.durationS * 1000), checkpointIntervalMs: CHECKPOINT_MS, restartDelayMs: RESTART_MS });
    for (let i = 0; i < O.nodes; i++) {
      agents.push(await SimAgent.start({ address: coordinator.address, nodeId: `n${i}`, gpus: O.gpusPerNode, clock, book, user: USER, manifest, checkpoints }));
    }
    const started = performance.now();
    const t0 = clock.now();
    const origin = jobs[0]!.submissionS;
    const names = new Map<string, TraceJob>();
    await Promise.all(jobs.map(async (j) => {
      await new Promise((r) => setTimeout(r, clock.real(t0 + (j.submissionS - origin) * 1000 - clock.now())));
      // As in the simulator, policies that read run times are told each job's (`nsml run --time`).
      const timeLimitS = policiesThatReadDurations.has(O.policy) ? Math.ceil(j.durationS) : 0;
      const req: SubmitRequest = { gpus: j.gpus, entry: 'main.py', workspace, env: { REPLAY_JOB: j.id }, memo: j.id, timeLimitS };
      const s = await unary<Session__Output>((md, o, cb) => sessions.Submit(req, md, o, cb));
      names.set(s.name, j);
    }));
    const rows = await untilAllEnded(sessions, jobs.length);
    const outcomes: JobOutcome[] = rows.map((s) => {
      const j = names.get(s.name)!;
      const ok = s.state === 'succeeded';
      return {
        id: j.id, gpus: j.gpus, submitMs: Number(s.createdMs) - t0, durationMs: Math.round(j.durationS * 1000),
        firstStartMs: Number(s.startedMs) - t0, finishMs: ok ? Number(s.endedMs) - t0 : Infinity, preemptions: s.preemptions,
      };
    });
    return {
      result: summarize(`coordinator (${O.policy})`, outcomes, O.nodes * O.gpusPerNode, 0),
      wallS: (performance.now() - started) / 1000,
      checkpointFailures: agents.reduce((n, a) => n + a.checkpointFailures, 0),
      passes: coordinator.getStatus().scheduler.passes,
    };
  } finally {
    for (const a of agents) a.close();
    sessions.close();
    blobs.close();
    checkpoints.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function untilAllEnded(sessions: SessionServiceClient, count: number): Promise<Session__Output[]> {
  const until = performance.now() + O.timeoutS * 1000;
  for (;;) {
    const { sessions: rows } = await unary<{ sessions: Session__Output[] }>((md, o, cb) => sessions.List({ all: true, user: '*', limit: 100_000 }, md, o, cb));
    const ended = rows.filter((s) => ['succeeded', 'failed', 'stopped', 'lost'].includes(s.state));
    if (ended.length >= count || performance.now() > until) return rows;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function row(label: string, r: SimResult): string {
  const h = (s: number): string => (s / 3600).toFixed(2).padStart(8);
  return `${label.padEnd(24)} ${String(r.jobs).padStart(4)} ${h(r.avgJctS)} ${h(r.p50JctS)} ${h(r.p99JctS)} ${h(r.avgQueueS)} ${h(r.makespanS)}   ${r.utilization.toFixed(3)} ${String(r.preemptions).padStart(7)}`;
}

function diff(a: number, b: number): string {
  return `${b === 0 ? (a === 0 ? '0.0' : '∞') : (((a - b) / b) * 100).toFixed(1)}%`.padStart(8);
}

async function main(): Promise<void> {
  const dir = tracesDir();
  if (!dir) {
    console.log('shared/traces/itp-elasticflow not found; nothing to run');
    return;
  }
  const jobs = slice(readTrace(join(dir, `${O.trace}.csv`)));
  const hours = (jobs.at(-1)!.submissionS - jobs[0]!.submissionS) / 3600;
  console.log(`${O.trace}: jobs ${O.skip + 1}..${O.skip + jobs.length} that fit (${jobs.length}, submitted over ${hours.toFixed(1)} h), ${O.nodes} nodes × ${O.gpusPerNode} GPUs, policy ${O.policy}`);
  console.log(`coordinator clock ×${O.speed} (1 trace hour = ${(3600 / O.speed).toFixed(2)} s); checkpoints every 30 min of work, 1 min grace, 2 min restart (both sides)`);
  const sim = simulate(jobs, { nodes: O.nodes, gpusPerNode: O.gpusPerNode, policy: O.policy, checkpointIntervalMs: CHECKPOINT_MS, restartDelayMs: RESTART_MS, graceMs: GRACE_MS });
  const real = await replay(jobs);
  console.log(`\n${'(hours)'.padEnd(24)} jobs   avgJCT   p50JCT   p99JCT avgQueue makespan    util preempt`);
  console.log(row(`simulation (${O.policy})`, sim.result));
  console.log(row(real.result.policy, real.result));
  const s = sim.result;
  const c = real.result;
  console.log(`${'difference'.padEnd(24)}      ${diff(c.avgJctS, s.avgJctS)} ${diff(c.p50JctS, s.p50JctS)} ${diff(c.p99JctS, s.p99JctS)} ${diff(c.avgQueueS, s.avgQueueS)} ${diff(c.makespanS, s.makespanS)}`);
  console.log(`\nreplay wall time ${real.wallS.toFixed(1)} s, ${real.passes} scheduling passes, ${real.checkpointFailures} failed checkpoint registrations; simulation unfinished ${sim.unfinished}`);
}

void main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});

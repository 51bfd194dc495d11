// Load: N simulated agents, each on its own connection with one Connect stream, heartbeating
// once a second. Prints the coordinator process's CPU share and RSS. Figures only, no assertions.
//
//   npm run build && node dist/bench/coordinator-agents.js [--agents 500] [--seconds 20]
import * as grpc from '@grpc/grpc-js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_CHANNEL_OPTIONS } from '../common/grpc/options.js';
import { loadProto } from '../common/proto/load.js';
import type { AgentMessage, CoordinatorMessage__Output, GpuInfo } from '../common/proto/types.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const AGENTS = arg('agents', 500);
const SECONDS = arg('seconds', 20);
const HEARTBEAT_MS = 1000;

interface Usage { cpu: NodeJS.CpuUsage; rss: number; status: { agentsConnected: number } }

function ask(child: ChildProcess): Promise<Usage> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Usage));
    child.send({ kind: 'usage' });
  });
}

function gpus(): GpuInfo[] {
  return Array.from({ length: 8 }, (_, index) => ({
    index, uuid: `GPU-${index}`, name: 'Bench GPU', memoryTotalMib: 81920, memoryUsedMib: 1000, utilizationPct: 37,
    temperatureC: 55, powerW: 300, health: 'ok', processes: [],
  }));
}

function startAgent(address: string, i: number, onRegistered: () => void) {
  const p = loadProto();
  const client = new p.nsml.v1.AgentService(address, grpc.credentials.createInsecure(), { ...AGENT_CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 });
  const call = client.Connect();
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  call.on('data', (m: CoordinatorMessage__Output) => {
    if (m.registered) {
      onRegistered();
      timer = setTimeout(function beat() {
        call.write({ heartbeat: { tsMs: Date.now(), gpus: gpus(), running: [] } } satisfies AgentMessage);
        sent++;
        timer = setTimeout(beat, HEARTBEAT_MS);
      }, Math.random() * HEARTBEAT_MS);
    }
  });
  call.on('error', () => undefined);
  call.write({ register: { nodeId: `bench-${i}`, inventory: { hostname: `bench-${i}`, cpus: 64, memoryMib: 512 * 1024, gpus: gpus() }, running: [] } });
  return {
    sent: () => sent,
    close: () => {
      clearTimeout(timer);
      call.end();
      call.cancel();
      client.close();
    },
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nsml-bench-'));
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'coordinator-child.js'), [dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { address } = await new Promise<{ address: string }>((resolve) => child.once('message', (m) => resolve(m as { address: string })));
  let registered = 0;
  let allJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (allJoined = resolve));
  const t0 = Date.now();
  const agents = Array.from({ length: AGENTS }, (_, i) => startAgent(address, i, () => ++registered === AGENTS && allJoined()));
  await joined;
  const joinMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const before = await ask(child);
  const selfBefore = process.cpuUsage();
  const beatsBefore = agents.reduce((n, a) => n + a.sent(), 0);
  const start = Date.now();
  let peakRss = before.rss;
  while (Date.now() - start < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, (await ask(child)).rss);
  }
  const after = await ask(child);
  const wallUs = (Date.now() - start) * 1000;
  const self = process.cpuUsage(selfBefore);
  const cpu = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / wallUs;
  const beats = agents.reduce((n, a) => n + a.sent(), 0) - beatsBefore;
  console.log(JSON.stringify({
    agents: AGENTS,
    connected: after.status.agentsConnected,
    joinMs,
    measuredSeconds: Math.round(wallUs / 1e5) / 10,
    heartbeatsInWindow: beats,
    coordinatorCpuPercentOfOneCore: Math.round(cpu * 1000) / 10,
    coordinatorRssMiB: Math.round(after.rss / 2 ** 20),
    coordinatorPeakRssMiB: Math.round(peakRss / 2 ** 20),
    loadGeneratorCpuPercent: Math.round(((self.user + self.system) / wallUs) * 1000) / 10,
  }, null, 2));
  for (const a of agents) a.close();
  child.send({ kind: 'stop' });
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}

await main();

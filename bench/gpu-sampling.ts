// CPU time per usage sample on an 8-GPU node, for the two sampling strategies of the GPU probe:
// one long-running `nvidia-smi --query-gpu ... -lms N` (stream) versus one spawn per sample
// (spawn). nvidia-smi is the fake program playing the committed H100 x8 fixture, so the child
// figures measure that program (a Node script), not a real driver. Figures only.
//
//   npm run build && node dist/bench/gpu-sampling.js [--samples 40] [--interval-ms 100]
import { parseSmiXml } from '../agent/gpu/nvidia-smi-xml.js';
import { createProcessSmiRunner } from '../agent/gpu/smi-runner.js';
import { createProcessStreamSpawner, type SmiStreamSpawner } from '../agent/gpu/smi-stream.js';
import { createSpawnSampler } from '../agent/gpu/spawn-sampler.js';
import { createStreamSampler } from '../agent/gpu/stream-sampler.js';
import type { UsageSampler } from '../agent/gpu/usage-sampler.js';
import { readFileSync } from 'node:fs';
import { arg, childrenCpuMs, createBenchSmi, fixturePath, processCpuMs, selfCpuMs } from './gpu-fake-smi.js';

const SAMPLES = arg('samples', 40);
const INTERVAL_MS = arg('interval-ms', 100);
const GPUS = 8;

interface Figures {
  samples: number;
  agentMs: number;
  childMs: number;
  wallMs: number;
}

async function measure(start: (onRecords: (n: number) => void) => { sampler: UsageSampler; childCpu: () => number }): Promise<Figures> {
  let rows = 0;
  const cpu = process.cpuUsage();
  const children = childrenCpuMs();
  const began = Date.now();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const { sampler, childCpu } = start((n) => {
    rows += n;
    if (rows >= SAMPLES * GPUS) done();
  });
  sampler.start();
  await finished;
  const running = childCpu();
  const agentMs = selfCpuMs(cpu);
  sampler.close();
  await new Promise((r) => setTimeout(r, 200));
  return { samples: Math.floor(rows / GPUS), agentMs, childMs: running + childrenCpuMs() - children, wallMs: Date.now() - began };
}

function options(onRecords: (n: number) => void) {
  return { intervalMs: INTERVAL_MS, timeoutMs: 10_000, onRecords: (records: unknown[]) => onRecords(records.length) };
}

async function main(): Promise<void> {
  const smi = createBenchSmi();
  const keepAlive = setInterval(() => {}, 1000); // the samplers' timers do not hold the process
  try {
    const stream = await measure((onRecords) => {
      let pid: number | undefined;
      const inner = createProcessStreamSpawner(smi.binary);
      const spawner: SmiStreamSpawner = { start: (args, handlers) => { const s = inner.start(args, handlers); pid = s.pid; return s; } };
      return { sampler: createStreamSampler(spawner, options(onRecords)), childCpu: () => (pid ? processCpuMs(pid) : 0) };
    });
    const spawn = await measure((onRecords) => ({
      sampler: createSpawnSampler(createProcessSmiRunner({ binary: smi.binary }), options(onRecords)),
      childCpu: () => 0,
    }));
    print('stream (-lms, one process)', stream);
    print('spawn (one process per sample)', spawn);
    inventoryParse();
  } finally {
    clearInterval(keepAlive);
    smi.cleanup();
  }
}

function print(name: string, f: Figures): void {
  const per = (ms: number) => (ms / Math.max(1, f.samples)).toFixed(2);
  console.log(
    `${name.padEnd(32)} samples=${f.samples} interval=${INTERVAL_MS}ms  agent CPU/sample=${per(f.agentMs)} ms  ` +
      `nvidia-smi CPU/sample=${per(f.childMs)} ms  total=${per(f.agentMs + f.childMs)} ms  wall=${f.wallMs} ms`,
  );
}

/** The slow loop's agent-side cost: parsing one 8-GPU `-q -x`. */
function inventoryParse(): void {
  const xml = readFileSync(fixturePath('h100-x8.xml'), 'utf8');
  const runs = 200;
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) parseSmiXml(xml);
  console.log(`inventory: parse of 8-GPU -q -x (${xml.length} bytes)  agent CPU/parse=${(selfCpuMs(cpu) / runs).toFixed(2)} ms`);
}

void main();

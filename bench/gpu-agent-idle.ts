// RSS and idle CPU share of a process running the GPU probe with sampling on (8-GPU node, the
// fake nvidia-smi playing the committed H100 x8 fixture): what the probe adds to an idle agent.
// Figures only.
//
//   npm run build && node dist/bench/gpu-agent-idle.js [--seconds 30] [--usage-ms 5000] [--inventory-ms 30000] [--sampling stream|spawn]
import { createGpuProbe } from '../agent/gpu/index.js';
import { arg, childrenCpuMs, createBenchSmi, processCpuMs, selfCpuMs } from './gpu-fake-smi.js';
import { readdirSync, readFileSync } from 'node:fs';

const SECONDS = arg('seconds', 30);
const USAGE_MS = arg('usage-ms', 5000);
const INVENTORY_MS = arg('inventory-ms', 30_000);
const SAMPLING = process.argv.includes('spawn') ? 'spawn' : 'stream';

/** CPU ms of this process's live children (the stream sampler's nvidia-smi). */
function liveChildrenCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) total += processCpuMs(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}

async function main(): Promise<void> {
  const smi = createBenchSmi();
  const rssBefore = process.memoryUsage().rss;
  const probe = createGpuProbe({ nvidiaSmi: smi.binary, sampling: SAMPLING, usageIntervalMs: USAGE_MS, inventoryIntervalMs: INVENTORY_MS, sessionOf: () => '' });
  const keepAlive = setInterval(() => {}, 1000); // the probe's timers do not hold the process
  try {
    await probe.read();
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = process.cpuUsage();
    const children = childrenCpuMs();
    const live = liveChildrenCpuMs();
    const began = Date.now();
    let peakRss = 0;
    let reads = 0;
    while (Date.now() - began < SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      await probe.read(); // as a heartbeat would
      reads++;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const wall = Date.now() - began;
    const agentShare = (100 * selfCpuMs(cpu)) / wall;
    const childShare = (100 * (childrenCpuMs() - children + liveChildrenCpuMs() - live)) / wall;
    const status = probe.getStatus();
    console.log(
      `sampling=${SAMPLING} usage every ${USAGE_MS} ms, inventory every ${INVENTORY_MS} ms, ${SECONDS} s, ${reads} reads, ` +
        `${status.inventories} inventories, ${status.sampler?.rows ?? 0} sampled GPU rows`,
    );
    console.log(`agent process: RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB (before probe ${(rssBefore / 2 ** 20).toFixed(1)} MiB), CPU share ${agentShare.toFixed(3)} %`);
    console.log(`nvidia-smi children (fake program): CPU share ${childShare.toFixed(3)} %`);
  } finally {
    clearInterval(keepAlive);
    probe.destroy();
    smi.cleanup();
  }
}

void main();

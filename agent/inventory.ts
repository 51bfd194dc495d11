import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join, sep } from 'node:path';
import si from 'systeminformation';
import { errorMessage } from '../common/errors.js';
import { repoRoot } from '../common/proto/load.js';
import type { GpuInfo, NodeInventory } from '../common/proto/types.js';
import type { GpuProbe, GpuState } from './gpu/types.js';
import type { Isolation } from './run-as/run-as-user.js';

const MIB = 1024 * 1024;

export interface InventoryOptions {
  dataDir: string;
  address: string;
  labels: Record<string, string>;
  /** Only these GPU indices are offered; undefined: all the probe sees. */
  gpus: number[] | undefined;
  /** Whether sessions here run apart, as unprivileged users (agent/run-as). */
  isolation?: Isolation;
  /** Python versions sessions may ask for, the default first (agent/env). */
  pythons?: string[];
  /** 'podman' | 'docker' | '' (agent/env). */
  containerRuntime?: string;
}

/** The GPUs of a probe reading that this agent offers. */
export function offeredGpus(state: GpuState, only: number[] | undefined): GpuInfo[] {
  return only === undefined ? state.gpus : state.gpus.filter((g) => only.includes(g.index ?? -1));
}

/** Reads the probe; a probe that throws (it should not) is reported like one that failed. */
export async function readProbe(probe: GpuProbe): Promise<GpuState> {
  try {
    return await probe.read();
  } catch (err) {
    return { gpus: [], error: errorMessage(err) };
  }
}

let agentVersion: string | undefined;

export function readAgentVersion(): string {
  if (agentVersion === undefined) {
    try {
      agentVersion = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '';
    } catch {
      agentVersion = '';
    }
  }
  return agentVersion;
}

/** Free space of the file system that holds `dir`: the mount point that is its longest prefix. */
async function diskFreeMib(dir: string): Promise<number> {
  try {
    const mounts = await si.fsSize();
    let best: { mount: string; available: number } | undefined;
    for (const m of mounts) {
      const prefix = m.mount.endsWith(sep) ? m.mount : m.mount + sep;
      if ((dir === m.mount || dir.startsWith(prefix)) && (!best || m.mount.length > best.mount.length)) best = m;
    }
    return best ? Math.floor(best.available / MIB) : 0;
  } catch {
    return 0;
  }
}

async function osName(): Promise<string> {
  try {
    const os = await si.osInfo();
    return [os.distro, os.release, `(${os.platform} ${os.kernel} ${os.arch})`].filter(Boolean).join(' ');
  } catch {
    return process.platform;
  }
}

async function cpuCount(): Promise<number> {
  try {
    const c = await si.cpu();
    return c.cores > 0 ? c.cores : cpus().length;
  } catch {
    return cpus().length;
  }
}

async function memoryMib(): Promise<number> {
  try {
    return Math.floor((await si.mem()).total / MIB);
  } catch {
    return Math.floor(totalmem() / MIB);
  }
}

/** What this node offers, for `register`. A GPU probe failure is reported, never fatal. */
export async function collectInventory(options: InventoryOptions, probe: GpuProbe): Promise<NodeInventory> {
  const [cpusN, memory, disk, os, gpu] = await Promise.all([
    cpuCount(), memoryMib(), diskFreeMib(options.dataDir), osName(), readProbe(probe),
  ]);
  return {
    hostname: hostname(),
    os,
    cpus: cpusN,
    memoryMib: memory,
    diskFreeMib: disk,
    gpus: offeredGpus(gpu, options.gpus),
    agentVersion: readAgentVersion(),
    address: options.address,
    gpuProbeError: gpu.error ?? '',
    labels: options.labels,
    isolation: options.isolation ?? '',
    pythons: options.pythons ?? [],
    containerRuntime: options.containerRuntime ?? '',
  };
}

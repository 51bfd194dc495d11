/**
 * One slow check of the node: `nvidia-smi -q -x` (inventory and health). When it fails because
 * of some GPUs (a lost GPU, a device-handle error, a hang), the GPUs are listed with `-L` and
 * queried one by one, so the good ones keep working and each bad one carries the driver's words.
 */
import { parseSmiList } from './nvidia-smi-list.js';
import { parseSmiXml } from './nvidia-smi-xml.js';
import type { GpuRecord, ListedGpu } from './records.js';
import { classifySmiFailure, isNodeFailure, type SmiFailure } from './smi-failure.js';
import type { SmiResult, SmiRunner } from './smi-runner.js';

/** Why one GPU could not be checked. */
export interface GpuFailure {
  index: number;
  message: string;
  lost: boolean;
  uuid?: string;
  name?: string;
}

export interface Inventory {
  gpus: GpuRecord[];
  listed: ListedGpu[];
  failures: GpuFailure[];
  /** A node-level failure, with nvidia-smi's words. */
  error?: string;
  /** Not an error: why there are no GPUs (no nvidia-smi, no devices). */
  notice?: string;
  driverVersion?: string;
  cudaVersion?: string;
}

/** Consecutive per-GPU hangs after which the remaining GPUs are not tried. */
const MAX_HANGS = 2;

export async function takeInventory(runner: SmiRunner, timeoutMs: number, knownIndices: readonly number[] = []): Promise<Inventory> {
  const full = await runner.run(['-q', '-x'], timeoutMs);
  if (full.kind === 'missing') return empty({ notice: full.message });
  if (full.kind === 'spawn-error') return empty({ error: full.message });
  if (full.kind === 'exited' && full.code === 0) {
    const report = parseSmiXml(full.stdout);
    if (!report) return empty({ error: `nvidia-smi -q -x printed no XML report: ${firstLine(full.stdout + full.stderr)}` });
    const listed = report.gpus.some((g) => g.migEnabled) ? await listGpus(runner, timeoutMs) : [];
    return { gpus: report.gpus, listed: listed ?? [], failures: [], driverVersion: report.driverVersion, cudaVersion: report.cudaVersion };
  }
  const failure = describe(full);
  if (failure.kind === 'no-devices') return empty({ notice: failure.message });
  if (isNodeFailure(failure.kind) || failure.kind === 'invalid-field') return empty({ error: failure.message });
  return perGpuInventory(runner, timeoutMs, failure, knownIndices);
}

function empty(extra: Partial<Inventory>): Inventory {
  return { gpus: [], listed: [], failures: [], ...extra };
}

function describe(result: SmiResult): SmiFailure {
  if (result.kind === 'timeout') return { kind: 'timeout', message: result.message, handles: [] };
  if (result.kind === 'exited') return classifySmiFailure(result.stdout, result.stderr, result.code);
  return { kind: 'other', message: result.message, handles: [] };
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0]?.slice(0, 200) || '(nothing)';
}

async function listGpus(runner: SmiRunner, timeoutMs: number): Promise<ListedGpu[] | undefined> {
  const result = await runner.run(['-L'], timeoutMs);
  if (result.kind !== 'exited') return undefined;
  const listed = parseSmiList(result.stdout);
  return listed.length > 0 ? listed : undefined;
}

async function perGpuInventory(runner: SmiRunner, timeoutMs: number, cause: SmiFailure, known: readonly number[]): Promise<Inventory> {
  const listed = (await listGpus(runner, timeoutMs)) ?? [];
  const indices = listed.length > 0 ? listed.map((l) => l.index) : [...known];
  if (indices.length === 0) return empty({ error: cause.message });
  const inventory: Inventory = { gpus: [], listed, failures: [] };
  let hangs = 0;
  for (const index of indices) {
    const identity = listed.find((l) => l.index === index);
    if (hangs >= MAX_HANGS) {
      inventory.failures.push({ index, lost: false, uuid: identity?.uuid, name: identity?.name, message: `not checked: nvidia-smi hung on other GPUs (${cause.message})` });
      continue;
    }
    const result = await runner.run(['-q', '-x', '-i', String(index)], timeoutMs);
    const report = result.kind === 'exited' && result.code === 0 ? parseSmiXml(result.stdout, index) : undefined;
    if (report && report.gpus.length > 0) {
      inventory.gpus.push(...report.gpus.slice(0, 1));
      inventory.driverVersion ??= report.driverVersion;
      inventory.cudaVersion ??= report.cudaVersion;
      hangs = 0;
      continue;
    }
    if (result.kind === 'timeout') hangs++;
    const failure = describe(result);
    const handle = failure.handles[0];
    inventory.failures.push({ index, uuid: identity?.uuid, name: identity?.name, lost: handle?.lost ?? false, message: handle?.line ?? failure.message });
  }
  if (inventory.gpus.length === 0 && hangs > 0) inventory.error = cause.message;
  return inventory;
}

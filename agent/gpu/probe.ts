/**
 * The node's GPU probe: a slow inventory/health loop (`-q -x`), a fast usage loop (stream or
 * spawn), and read() that merges the latest of both without waiting on nvidia-smi (except for
 * the very first check, which is bounded by the call timeouts).
 */
import { assessInventory, type AssessedUnit } from './assess.js';
import { checkForeign } from './foreign-check.js';
import { HealthTracker } from './health.js';
import { takeInventory, type Inventory } from './inventory.js';
import type { CompiledGpuProbeOptions } from './options.js';
import type { ProcessRecord, UsageRecord } from './records.js';
import { createProcessSmiRunner, type ProcessSmiRunner, type SmiRunner } from './smi-runner.js';
import { createProcessStreamSpawner, type SmiStreamSpawner } from './smi-stream.js';
import { createSpawnSampler } from './spawn-sampler.js';
import { createStreamSampler } from './stream-sampler.js';
import { toGpuInfo } from './to-gpu-info.js';
import type { ForeignHolder, GpuState, NodeGpuProbe, ProbeStatus } from './types.js';
import type { SamplerEvent, UsageSampler } from './usage-sampler.js';

export interface ProbeSeams {
  runner?: SmiRunner;
  streamSpawner?: SmiStreamSpawner;
}

export function startProbe(options: CompiledGpuProbeOptions, seams: ProbeSeams = {}): NodeGpuProbe {
  const probe = new Probe(options, seams);
  if (options.background) void probe.loop();
  return probe;
}

class Probe implements NodeGpuProbe {
  private readonly abort = new AbortController();
  private readonly processRunner: ProcessSmiRunner | undefined;
  private readonly runner: SmiRunner;
  private readonly tracker: HealthTracker;
  private readonly usage = new Map<string, { record: UsageRecord; atMs: number }>();
  private readonly status: ProbeStatus = { state: 'starting', inventories: 0, inventoryFailures: 0, stuckCalls: 0 };
  private units: AssessedUnit[] = [];
  private last: Inventory | undefined;
  private checkedAtMs: number | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampler: UsageSampler | undefined;

  constructor(
    private readonly options: CompiledGpuProbeOptions,
    private readonly seams: ProbeSeams,
  ) {
    this.processRunner = seams.runner ? undefined : createProcessSmiRunner({ binary: options.nvidiaSmi, env: options.env, signal: this.abort.signal });
    this.runner = seams.runner ?? this.processRunner!;
    this.tracker = new HealthTracker(options.releaseAfterChecks);
  }

  read(): Promise<GpuState> {
    if (!this.options.background) return this.bounded(this.refreshNow());
    return this.checkedAtMs === undefined ? this.bounded(this.refreshNow()) : Promise.resolve(this.snapshot());
  }

  refresh(): Promise<GpuState> {
    return this.bounded(this.refreshNow());
  }

  async checkFree(indices: readonly number[]): Promise<{ foreign: ForeignHolder[]; error?: string }> {
    if (this.checkedAtMs === undefined) await this.bounded(this.refreshNow());
    return checkForeign(
      {
        runner: this.runner,
        timeoutMs: this.options.timeoutMs,
        sessionOf: this.options.sessionOf,
        units: () => this.units,
        refresh: () => this.refreshNow(),
        setProcesses: (byIndex) => this.setProcesses(byIndex),
      },
      indices,
    );
  }

  getStatus(): ProbeStatus {
    return { ...this.status, sampler: this.sampler?.getStatus(), stuckCalls: this.processRunner?.stuckCount() ?? 0 };
  }

  /** Stops both loops and kills the nvidia-smi processes it started (none is worth waiting for). */
  close(): void {
    this.status.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.sampler?.close();
    this.abort.abort();
  }

  destroy(): void {
    this.close();
  }

  /** The slow loop: one inventory now, then one every inventoryIntervalMs. */
  async loop(): Promise<void> {
    await this.refreshNow();
    if (this.status.state === 'closed') return;
    this.status.state = 'running';
    if (!this.sampler && this.units.length > 0 && this.options.sampling !== 'off') this.startSampler();
    this.timer = setTimeout(() => void this.loop(), this.options.inventoryIntervalMs);
    this.timer.unref();
  }

  /** Runs an inventory, or joins the one in flight. Never rejects. */
  private refreshNow(): Promise<void> {
    this.inFlight ??= this.inventoryOnce()
      .catch((err: unknown) => {
        this.status.inventoryFailures++;
        this.status.lastError = `GPU inventory failed: ${err instanceof Error ? err.message : String(err)}`;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async inventoryOnce(): Promise<void> {
    const known = [...new Set(this.units.map((u) => u.physicalIndex))];
    const inventory = await takeInventory(this.runner, this.options.timeoutMs, known);
    if (this.status.state === 'closed') return;
    const before = new Map(this.units.map((u) => [u.index, u.health.health + u.health.reason]));
    this.units = assessInventory(inventory, this.units, this.tracker, this.options.scope);
    this.last = inventory;
    this.checkedAtMs = Date.now();
    this.status.inventories++;
    this.status.lastError = inventory.error;
    if (inventory.error !== undefined) this.status.inventoryFailures++;
    this.options.onEvent({ type: 'inventory', gpus: this.units.length, error: inventory.error });
    for (const u of this.units) {
      if (before.get(u.index) === u.health.health + u.health.reason) continue;
      this.options.onEvent({ type: 'health-changed', index: u.index, uuid: u.uuid, health: u.health.health, reason: u.health.reason });
    }
  }

  private startSampler(): void {
    const samplerOptions = {
      intervalMs: this.options.usageIntervalMs,
      timeoutMs: this.options.timeoutMs,
      onRecords: (records: UsageRecord[], atMs: number) => {
        for (const record of records) this.usage.set(usageKey(record), { record, atMs });
      },
      onEvent: (event: SamplerEvent) => {
        if (event.type === 'failed') this.options.onEvent({ type: 'sampler', message: event.message, kind: event.kind });
        if (event.type === 'stalled') this.options.onEvent({ type: 'sampler', message: event.message, kind: 'stalled' });
      },
    };
    if (this.options.sampling === 'stream') {
      const spawner = this.seams.streamSpawner ?? createProcessStreamSpawner(this.options.nvidiaSmi, this.options.env);
      this.sampler = createStreamSampler(spawner, samplerOptions);
    } else {
      this.sampler = createSpawnSampler(this.runner, samplerOptions);
    }
    this.sampler.start();
  }

  private setProcesses(byIndex: Map<number, ProcessRecord[]>): void {
    this.units = this.units.map((u) => (u.mig === '' && byIndex.has(u.physicalIndex) ? { ...u, processes: byIndex.get(u.physicalIndex)! } : u));
  }

  private snapshot(): GpuState {
    const state: GpuState = { gpus: this.units.map((unit) => toGpuInfo(unit, this.freshUsage(unit), this.options.sessionOf)) };
    const last = this.last;
    if (last?.error !== undefined) state.error = last.error;
    if (last?.notice !== undefined && state.gpus.length === 0) state.notice = last.notice;
    if (last?.driverVersion) state.driverVersion = last.driverVersion;
    if (last?.cudaVersion) state.cudaVersion = last.cudaVersion;
    if (this.checkedAtMs !== undefined) state.checkedAtMs = this.checkedAtMs;
    return state;
  }

  /** A usage sample newer than the last inventory overrides the inventory's own figures. */
  private freshUsage(unit: AssessedUnit): UsageRecord | undefined {
    const entry = this.usage.get(`uuid:${unit.parentUuid ?? unit.uuid}`) ?? this.usage.get(`index:${unit.physicalIndex}`);
    return entry && this.checkedAtMs !== undefined && entry.atMs > this.checkedAtMs ? entry.record : undefined;
  }

  /** Waits for `work`, with a last guard on top of the per-call timeouts, then snapshots. */
  private async bounded(work: Promise<void>): Promise<GpuState> {
    const guardMs = this.options.timeoutMs * 4 + 1000;
    let guard: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      guard = setTimeout(() => resolve('late'), guardMs);
      guard.unref();
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), late]);
    clearTimeout(guard);
    const state = this.snapshot();
    if (outcome === 'late' && this.checkedAtMs === undefined) state.error = `GPU check did not finish within ${guardMs} ms`;
    return state;
  }
}

function usageKey(record: UsageRecord): string {
  return record.uuid !== undefined ? `uuid:${record.uuid}` : `index:${record.index}`;
}

/**
 * Rate limit for the GPU part of heartbeats. A heartbeat carries the full GPU list when health,
 * processes or the GPU set changed (at once), or when usage moved enough and `minIntervalMs`
 * has passed, or at least every `maxSilenceMs`; otherwise it carries none ("unchanged").
 */
import type { GpuInfo } from '../../common/proto/types.js';

export interface HeartbeatUsageOptions {
  /** Least time between two usage updates, default 10 s. */
  minIntervalMs?: number;
  /** Most time without any update, default 60 s. */
  maxSilenceMs?: number;
  utilizationDeltaPct?: number;
  memoryDeltaMib?: number;
  temperatureDeltaC?: number;
  powerDeltaW?: number;
}

export class HeartbeatUsage {
  private last: GpuInfo[] | undefined;
  private lastAtMs = 0;
  private readonly o: Required<HeartbeatUsageOptions>;

  constructor(options: HeartbeatUsageOptions = {}) {
    this.o = {
      minIntervalMs: options.minIntervalMs ?? 10_000,
      maxSilenceMs: options.maxSilenceMs ?? 60_000,
      utilizationDeltaPct: options.utilizationDeltaPct ?? 10,
      memoryDeltaMib: options.memoryDeltaMib ?? 512,
      temperatureDeltaC: options.temperatureDeltaC ?? 5,
      powerDeltaW: options.powerDeltaW ?? 25,
    };
  }

  /** The GPUs to put in this heartbeat ([] = unchanged). */
  next(gpus: readonly GpuInfo[], nowMs: number): GpuInfo[] {
    if (!this.shouldSend(gpus, nowMs)) return [];
    this.last = gpus.map((g) => ({ ...g }));
    this.lastAtMs = nowMs;
    return [...gpus];
  }

  private shouldSend(gpus: readonly GpuInfo[], nowMs: number): boolean {
    const last = this.last;
    if (!last || last.length !== gpus.length) return true;
    const elapsed = nowMs - this.lastAtMs;
    if (elapsed >= this.o.maxSilenceMs) return true;
    if (gpus.some((g, i) => stateChanged(last[i]!, g))) return true;
    return elapsed >= this.o.minIntervalMs && gpus.some((g, i) => this.usageMoved(last[i]!, g));
  }

  private usageMoved(a: GpuInfo, b: GpuInfo): boolean {
    return (
      moved(a.utilizationPct, b.utilizationPct, this.o.utilizationDeltaPct) ||
      moved(a.memoryUsedMib, b.memoryUsedMib, this.o.memoryDeltaMib) ||
      moved(a.temperatureC, b.temperatureC, this.o.temperatureDeltaC) ||
      moved(a.powerW, b.powerW, this.o.powerDeltaW)
    );
  }
}

function stateChanged(a: GpuInfo, b: GpuInfo): boolean {
  if (a.index !== b.index || a.uuid !== b.uuid || a.health !== b.health || a.healthReason !== b.healthReason) return true;
  const pa = (a.processes ?? []).map((p) => `${p.pid}:${p.session}`).join(',');
  const pb = (b.processes ?? []).map((p) => `${p.pid}:${p.session}`).join(',');
  return pa !== pb;
}

function moved(a: unknown, b: unknown, delta: number): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return Math.abs(Number(a) - Number(b)) >= delta;
}

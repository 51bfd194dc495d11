/**
 * The fast loop: utilization, memory, temperature and power per GPU. Two strategies share this
 * contract: one long-running `nvidia-smi --query-gpu … -lms N` (stream-sampler.ts), or one
 * spawn per sample (spawn-sampler.ts). Both report rows to a sink and never throw.
 */
import { USAGE_FIELDS } from './nvidia-smi-csv.js';
import type { UsageRecord } from './records.js';

export type SamplingStrategy = 'stream' | 'spawn';

export type SamplerEvent =
  | { type: 'failed'; message: string; kind: string }
  | { type: 'restarted'; message: string; restarts: number }
  | { type: 'stalled'; message: string }
  | { type: 'field-dropped'; field: string };

export interface SamplerStatus {
  strategy: SamplingStrategy;
  /** `hung`: killed for silence, waiting for the process to exit before a restart. */
  state: 'idle' | 'running' | 'hung' | 'backoff' | 'closed';
  /** GPU rows received (one per GPU per sample). */
  rows: number;
  failures: number;
  restarts: number;
  lastSampleAtMs?: number;
  lastError?: string;
}

export interface UsageSampler {
  start(): void;
  close(): void;
  getStatus(): SamplerStatus;
}

export interface UsageSamplerOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Receives the rows of each sample (the stream strategy: each row as it arrives). */
  onRecords(records: UsageRecord[], atMs: number): void;
  onEvent?(event: SamplerEvent): void;
  now?(): number;
}

/** The query fields, minus any that this driver rejected. `index` and `uuid` are never dropped. */
export class QueryFields {
  private readonly fields: string[] = [...USAGE_FIELDS];

  list(): readonly string[] {
    return this.fields;
  }

  /** Drops a field the driver rejected; false when it cannot be dropped. */
  drop(field: string): boolean {
    const at = this.fields.indexOf(field);
    if (at < 0 || field === 'index' || field === 'uuid') return false;
    this.fields.splice(at, 1);
    return true;
  }

  args(loopMs?: number): string[] {
    const args = [`--query-gpu=${this.fields.join(',')}`, '--format=csv,noheader,nounits'];
    return loopMs === undefined ? args : [...args, `-lms`, String(loopMs)];
  }
}

/** Exponential backoff for restarts: 1 s doubling to 60 s, reset by a good sample. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 60_000,
  ) {}

  next(): number {
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}

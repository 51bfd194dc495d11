/**
 * GPU health over time. A check that finds a problem quarantines the GPU (the scheduler places
 * nothing on it); a quarantined GPU is released after `releaseAfterChecks` clean checks in a
 * row, so a one-time event does not disable it forever. Counters that only grow until the
 * driver reloads (volatile ECC) count as a problem when they rise, not while they stay put.
 */
import type { HealthSignals } from './records.js';

export type GpuHealthState = 'ok' | 'quarantined' | 'lost';

export interface GpuHealth {
  health: GpuHealthState;
  /** "" when ok; otherwise what was found, in the driver's words where there are any. */
  reason: string;
}

const THROTTLE_WORDS: Record<string, string> = {
  hw_slowdown: 'hardware slowdown',
  hw_thermal_slowdown: 'hardware thermal slowdown',
  hw_power_brake_slowdown: 'hardware power-brake slowdown',
  sw_thermal_slowdown: 'software thermal slowdown',
};

/** The problems that a GPU's state shows now (not counting counter increases). */
export function stateProblems(signals: HealthSignals): string[] {
  const problems: string[] = [];
  if (signals.retiredPagesPending) problems.push('retired pages pending: reset the GPU or reboot to retire them');
  if (signals.remappedRowsFailure) problems.push('row remapping failure occurred: the GPU memory needs service');
  if (signals.remappedRowsPending) problems.push('row remapping pending: reset the GPU to apply it');
  if (signals.throttle.length > 0) {
    problems.push(`clocks throttled by ${signals.throttle.map((t) => THROTTLE_WORDS[t] ?? t).join(', ')}`);
  }
  if (signals.recoveryAction) problems.push(`driver asks for GPU recovery action: ${signals.recoveryAction}`);
  if (signals.resetRequired) problems.push('driver reports the GPU needs a reset');
  for (const repair of signals.repairs) problems.push(`memory repair state: ${repair.replace(/_/g, ' ')}`);
  return problems;
}

interface Entry {
  state: GpuHealthState;
  reason: string;
  clean: number;
  ecc?: number;
}

export class HealthTracker {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly releaseAfterChecks: number) {}

  /** A problem text when the volatile ECC counter of `key` rose since the last check. */
  eccIncrease(key: string, count: number | undefined, what = 'volatile uncorrectable (double-bit) ECC errors'): string | undefined {
    if (count === undefined) return undefined;
    const entry = this.entry(key);
    const before = entry.ecc ?? 0;
    entry.ecc = count;
    return count > before ? `${what}: ${count} (was ${before})` : undefined;
  }

  /** Records one check of `key`; `lost` is the driver's message for a GPU that is gone. */
  observe(key: string, problems: readonly string[], lost?: string): GpuHealth {
    const entry = this.entry(key);
    if (lost !== undefined) {
      Object.assign(entry, { state: 'lost', reason: lost, clean: 0 });
    } else if (problems.length > 0) {
      Object.assign(entry, { state: 'quarantined', reason: problems.join('; '), clean: 0 });
    } else if (entry.state !== 'ok') {
      this.countClean(entry);
    }
    return this.current(key);
  }

  current(key: string): GpuHealth {
    const entry = this.entries.get(key);
    if (!entry || entry.state === 'ok') return { health: 'ok', reason: '' };
    if (entry.state === 'lost') return { health: 'lost', reason: entry.reason };
    const progress = entry.clean > 0 ? ` (clean checks ${entry.clean}/${this.releaseAfterChecks})` : '';
    return { health: 'quarantined', reason: `${entry.reason}${progress}` };
  }

  private countClean(entry: Entry): void {
    if (entry.state === 'lost') {
      Object.assign(entry, { state: 'quarantined', reason: `was lost: ${entry.reason}`, clean: 0 });
    }
    entry.clean++;
    if (entry.clean >= this.releaseAfterChecks) Object.assign(entry, { state: 'ok', reason: '', clean: 0 });
  }

  private entry(key: string): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { state: 'ok', reason: '', clean: 0 };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

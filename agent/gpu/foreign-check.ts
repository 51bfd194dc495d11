/**
 * The check before a session starts: who holds these GPUs right now? Whole GPUs are checked
 * with `--query-compute-apps` (fast); MIG instances need a fresh `-q -x`, which says which
 * instance each process runs on.
 */
import type { AssessedUnit } from './assess.js';
import { COMPUTE_APP_FIELDS, parseComputeApps } from './nvidia-smi-csv.js';
import type { ProcessRecord } from './records.js';
import type { SessionResolver } from './session-owner.js';
import { classifySmiFailure } from './smi-failure.js';
import type { SmiRunner } from './smi-runner.js';
import type { ForeignHolder } from './types.js';
import { normalizeBusId } from './values.js';

export interface ForeignCheckDeps {
  runner: SmiRunner;
  timeoutMs: number;
  sessionOf: SessionResolver;
  units(): AssessedUnit[];
  /** Runs a full inventory (it replaces the units). */
  refresh(): Promise<void>;
  /** Stores fresh process lists of whole GPUs, by physical index. */
  setProcesses(byPhysicalIndex: Map<number, ProcessRecord[]>): void;
}

export async function checkForeign(deps: ForeignCheckDeps, indices: readonly number[]): Promise<{ foreign: ForeignHolder[]; error?: string }> {
  const wanted = new Set(indices);
  const missing = indices.filter((i) => !deps.units().some((u) => u.index === i));
  if (missing.length > 0) return { foreign: [], error: `GPU index ${missing.join(', ')} is not among this node's GPUs` };
  const selected = () => deps.units().filter((u) => wanted.has(u.index));
  if (selected().some((u) => u.mig !== '')) {
    await deps.refresh();
  } else {
    const error = await refreshComputeApps(deps);
    if (error !== undefined) return { foreign: [], error };
  }
  const foreign = selected().flatMap((unit) =>
    unit.processes
      .filter((p) => deps.sessionOf(p.pid) === '')
      .map((p): ForeignHolder => ({ index: unit.index, uuid: unit.uuid, pid: p.pid, name: p.name, usedMemoryMib: p.usedMemoryMib })),
  );
  return { foreign };
}

async function refreshComputeApps(deps: ForeignCheckDeps): Promise<string | undefined> {
  const args = [`--query-compute-apps=${COMPUTE_APP_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
  const result = await deps.runner.run(args, deps.timeoutMs);
  if (result.kind !== 'exited') return `cannot list GPU processes: ${result.message}`;
  if (result.code !== 0) return `cannot list GPU processes: ${classifySmiFailure(result.stdout, result.stderr, result.code).message}`;
  const byIndex = new Map<number, ProcessRecord[]>();
  const units = deps.units().filter((u) => u.mig === '');
  for (const unit of units) byIndex.set(unit.physicalIndex, []);
  for (const app of parseComputeApps(result.stdout, COMPUTE_APP_FIELDS)) {
    const unit = units.find((u) => (app.gpuUuid !== undefined && u.uuid === app.gpuUuid) || sameBus(u.pciBusId, app.gpuBusId));
    byIndex.get(unit?.physicalIndex ?? -1)?.push({ pid: app.pid, name: app.name, type: 'C', usedMemoryMib: app.usedMemoryMib });
  }
  deps.setProcesses(byIndex);
  return undefined;
}

function sameBus(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeBusId(a) === normalizeBusId(b);
}

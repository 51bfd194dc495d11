/**
 * Turns one inventory into the node's units with health: problems found now quarantine a unit,
 * failures name it lost, GPUs that vanished since the last check are lost, and a node-level
 * failure makes every known unit unusable with the driver's message.
 */
import type { GpuHealth, HealthTracker } from './health.js';
import { stateProblems } from './health.js';
import type { GpuFailure, Inventory } from './inventory.js';
import type { GpuRecord } from './records.js';
import { inScope, type GpuScope } from './scope.js';
import { buildUnits, type GpuUnit } from './units.js';

export interface AssessedUnit extends GpuUnit {
  health: GpuHealth;
}

export function unitKey(unit: Pick<GpuUnit, 'physicalIndex' | 'migDevice'>): string {
  return `${unit.physicalIndex}.${unit.migDevice?.index ?? '-'}`;
}

export function assessInventory(
  inventory: Inventory,
  previous: readonly AssessedUnit[],
  tracker: HealthTracker,
  scope: GpuScope | undefined,
): AssessedUnit[] {
  if (inventory.error !== undefined) {
    return previous.map((unit) => ({ ...unit, health: tracker.observe(unitKey(unit), [], inventory.error) }));
  }
  const units = buildUnits(inventory.gpus, inventory.listed).filter((u) => inScope(scope, u));
  const gpuProblems = new Map(inventory.gpus.map((gpu) => [gpu.index, problemsOf(gpu, tracker)]));
  const assessed: AssessedUnit[] = units.map((unit) => {
    const problems = [...(gpuProblems.get(unit.physicalIndex) ?? [])];
    const migEcc = unit.migDevice && tracker.eccIncrease(`mig:${unitKey(unit)}`, unit.migDevice.volatileUncorrectable, 'MIG volatile uncorrectable ECC errors');
    if (migEcc) problems.push(migEcc);
    return { ...unit, health: tracker.observe(unitKey(unit), problems) };
  });
  for (const failure of inventory.failures) assessed.push(...failedUnits(failure, previous, tracker, scope));
  assessed.push(...vanishedUnits(assessed, previous, inventory, tracker));
  return assessed.sort((a, b) => a.physicalIndex - b.physicalIndex || (a.migDevice?.index ?? 0) - (b.migDevice?.index ?? 0));
}

function problemsOf(gpu: GpuRecord, tracker: HealthTracker): string[] {
  const problems = stateProblems(gpu.signals);
  const ecc = tracker.eccIncrease(`gpu:${gpu.index}`, gpu.signals.volatileUncorrectable);
  return ecc ? [ecc, ...problems] : problems;
}

/** A GPU that could not be queried: its last known units, or one built from `-L`. */
function failedUnits(failure: GpuFailure, previous: readonly AssessedUnit[], tracker: HealthTracker, scope: GpuScope | undefined): AssessedUnit[] {
  const known = previous.filter((u) => u.physicalIndex === failure.index);
  const base: GpuUnit[] = known.length > 0
    ? known.map((u) => ({ ...u, utilizationPct: undefined, powerW: undefined, temperatureC: undefined, processes: [] }))
    : [{ index: failure.index, physicalIndex: failure.index, uuid: failure.uuid ?? '', name: failure.name ?? '', mig: '', processes: [] }];
  return base
    .filter((u) => inScope(scope, u))
    .map((u) => ({ ...u, health: tracker.observe(unitKey(u), failure.lost ? [] : [failure.message], failure.lost ? failure.message : undefined) }));
}

/** Units seen at the last check whose GPU is neither reported nor failed now. */
function vanishedUnits(current: readonly AssessedUnit[], previous: readonly AssessedUnit[], inventory: Inventory, tracker: HealthTracker): AssessedUnit[] {
  const present = new Set(current.map((u) => u.physicalIndex));
  const reported = new Set([...inventory.gpus.map((g) => g.index), ...inventory.failures.map((f) => f.index)]);
  return previous
    .filter((u) => !present.has(u.physicalIndex) && !reported.has(u.physicalIndex))
    .map((u) => ({
      ...u,
      processes: [],
      health: tracker.observe(unitKey(u), [], `GPU ${u.uuid || u.physicalIndex} is no longer reported by nvidia-smi`),
    }));
}

/** A unit as the wire type GpuInfo (common/proto/types.ts). Unknown numbers stay absent. */
import type { GpuInfo, GpuProcess } from '../../common/proto/types.js';
import type { AssessedUnit } from './assess.js';
import type { UsageRecord } from './records.js';
import type { SessionResolver } from './session-owner.js';

export function toGpuInfo(unit: AssessedUnit, usage: UsageRecord | undefined, sessionOf: SessionResolver): GpuInfo {
  const whole = unit.mig === '';
  const info: GpuInfo = {
    index: unit.index,
    uuid: unit.uuid,
    name: unit.name,
    memoryTotalMib: unit.memoryTotalMib ?? (whole ? usage?.memoryTotalMib : undefined) ?? 0,
    mig: unit.mig,
    health: unit.health.health,
    healthReason: unit.health.reason,
    processes: unit.processes.map((p): GpuProcess => ({
      pid: p.pid,
      name: p.name,
      usedMemoryMib: p.usedMemoryMib ?? 0,
      session: sessionOf(p.pid),
    })),
  };
  setNumber(info, 'memoryUsedMib', whole ? usage?.memoryUsedMib ?? unit.memoryUsedMib : unit.memoryUsedMib);
  setNumber(info, 'utilizationPct', whole ? usage?.utilizationPct ?? unit.utilizationPct : undefined);
  setNumber(info, 'temperatureC', usage?.temperatureC ?? unit.temperatureC);
  setNumber(info, 'powerW', whole ? usage?.powerW ?? unit.powerW : undefined);
  return info;
}

type NumberField = 'memoryUsedMib' | 'utilizationPct' | 'temperatureC' | 'powerW';

function setNumber(info: GpuInfo, field: NumberField, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) info[field] = value;
}

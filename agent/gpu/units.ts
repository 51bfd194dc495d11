/**
 * Schedulable units: a whole GPU, or with MIG enabled each MIG instance of it. A unit's `index`
 * is the nvidia-smi index on nodes without MIG, and its position on the node otherwise; MIG
 * units must be exposed to CUDA by UUID (see cudaVisibleDevices).
 */
import type { GpuRecord, ListedGpu, MigRecord, ProcessRecord } from './records.js';

export interface GpuUnit {
  index: number;
  physicalIndex: number;
  uuid: string;
  parentUuid?: string;
  name: string;
  /** "" for a whole GPU, else the MIG profile, e.g. `3g.40gb`. */
  mig: string;
  migDevice?: MigRecord;
  pciBusId?: string;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
  utilizationPct?: number;
  temperatureC?: number;
  powerW?: number;
  processes: ProcessRecord[];
}

/** Splits GPUs into units; `listed` (from `nvidia-smi -L`) supplies MIG UUIDs and profiles. */
export function buildUnits(gpus: readonly GpuRecord[], listed: readonly ListedGpu[] = []): GpuUnit[] {
  const units: GpuUnit[] = [];
  for (const gpu of [...gpus].sort((a, b) => a.index - b.index)) {
    if (gpu.migEnabled && gpu.migDevices.length > 0) {
      const migList = listed.find((l) => l.index === gpu.index)?.mig ?? [];
      for (const device of gpu.migDevices) units.push(migUnit(gpu, device, migList));
    } else {
      units.push(wholeUnit(gpu));
    }
  }
  if (units.some((u) => u.mig !== '')) units.forEach((unit, position) => (unit.index = position));
  return units;
}

function wholeUnit(gpu: GpuRecord): GpuUnit {
  return {
    index: gpu.index,
    physicalIndex: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    mig: '',
    pciBusId: gpu.pciBusId,
    memoryTotalMib: gpu.memoryTotalMib,
    memoryUsedMib: gpu.memoryUsedMib,
    utilizationPct: gpu.utilizationPct,
    temperatureC: gpu.temperatureC,
    powerW: gpu.powerW,
    processes: gpu.processes.filter(isComputeProcess),
  };
}

function migUnit(gpu: GpuRecord, device: MigRecord, migList: ListedGpu['mig']): GpuUnit {
  const listedDevice = migList.find((m) => m.index === device.index);
  const uuid = listedDevice?.uuid ?? legacyMigUuid(gpu.uuid, device);
  return {
    index: gpu.index,
    physicalIndex: gpu.index,
    uuid,
    parentUuid: gpu.uuid,
    name: gpu.name,
    mig: listedDevice?.profile ?? `gi${device.gpuInstanceId ?? device.index}`,
    migDevice: { ...device, uuid, profile: listedDevice?.profile },
    pciBusId: gpu.pciBusId,
    memoryTotalMib: device.memoryTotalMib,
    memoryUsedMib: device.memoryUsedMib,
    temperatureC: gpu.temperatureC,
    processes: gpu.processes.filter((p) => isComputeProcess(p) && onMigDevice(p, device)),
  };
}

/** The `MIG-GPU-<uuid>/<gi>/<ci>` form that drivers before R470 accept. */
function legacyMigUuid(parentUuid: string, device: MigRecord): string {
  return `MIG-${parentUuid}/${device.gpuInstanceId ?? 0}/${device.computeInstanceId ?? 0}`;
}

/** A process with unknown instance ids is counted on every instance of its GPU. */
function onMigDevice(process: ProcessRecord, device: MigRecord): boolean {
  if (process.gpuInstanceId === undefined || device.gpuInstanceId === undefined) return true;
  if (process.gpuInstanceId !== device.gpuInstanceId) return false;
  return process.computeInstanceId === undefined || device.computeInstanceId === undefined || process.computeInstanceId === device.computeInstanceId;
}

/** Pure graphics clients (Xorg, compositors) do not hold a GPU against compute work. */
export function isComputeProcess(process: ProcessRecord): boolean {
  return process.type !== 'G';
}

/**
 * The CUDA_VISIBLE_DEVICES value for these units: their UUIDs when every one has one (always so
 * for MIG, and immune to CUDA's device ordering), else their indices.
 */
export function cudaVisibleDevices(units: ReadonlyArray<{ index?: number; uuid?: string; mig?: string }>): string {
  const uuids = units.map((u) => u.uuid ?? '');
  if (uuids.every((u) => u.length > 0)) return uuids.join(',');
  return units.map((u) => String(u.index ?? '')).join(',');
}

/**
 * Reads `nvidia-smi -q -x` into GpuRecords. The schema drifts between DTD v9 and v13 (power
 * readings move, throttle reasons become event reasons, the ECC layout depends on the GPU), so
 * each value is looked up by several candidate paths and missing values are simply absent.
 */
import type { GpuRecord, HealthSignals, MigRecord, ProcessRecord, SmiReport } from './records.js';
import { availableText, parseCount, parseFlag, parseMib, parseNumber } from './values.js';
import { at, child, childrenNamed, parseXml, type XmlElement } from './xml-tree.js';

const POWER_PATHS = [
  'gpu_power_readings/power_draw',
  'gpu_power_readings/average_power_draw',
  'gpu_power_readings/instant_power_draw',
  'power_readings/power_draw',
  'power_readings/average_power_draw',
  'power_readings/instant_power_draw',
];

/** Clock reasons that mean a sick or overheating GPU; a power cap or idle clocks are normal. */
const BAD_THROTTLE = ['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown', 'sw_thermal_slowdown'];

/** True when the text looks like `-q -x` output (so a failed run may still carry it). */
export function looksLikeSmiXml(text: string): boolean {
  return text.includes('<nvidia_smi_log');
}

/**
 * Parses a whole report. `firstIndex` is the nvidia-smi index of the first `<gpu>` (the `-i`
 * index when one GPU was asked for). Returns undefined when the text holds no nvidia_smi_log.
 */
export function parseSmiXml(text: string, firstIndex = 0): SmiReport | undefined {
  const root = parseXml(text);
  if (!root || root.name !== 'nvidia_smi_log') return undefined;
  const gpus = childrenNamed(root, 'gpu').map((gpu, position) => parseGpu(gpu, firstIndex + position));
  return {
    driverVersion: availableText(child(root, 'driver_version')?.text),
    cudaVersion: availableText(child(root, 'cuda_version')?.text),
    attachedGpus: parseCount(child(root, 'attached_gpus')?.text),
    gpus,
  };
}

function firstNumber(element: XmlElement, paths: string[], parse = parseNumber): number | undefined {
  for (const path of paths) {
    const value = parse(at(element, path)?.text);
    if (value !== undefined) return value;
  }
  return undefined;
}

function parseGpu(gpu: XmlElement, index: number): GpuRecord {
  const migEnabled = parseFlag(at(gpu, 'mig_mode/current_mig')?.text) === true;
  return {
    index,
    uuid: availableText(child(gpu, 'uuid')?.text) ?? '',
    name: availableText(child(gpu, 'product_name')?.text) ?? '',
    pciBusId: availableText(at(gpu, 'pci/pci_bus_id')?.text) ?? availableText(gpu.attrs.id),
    memoryTotalMib: parseMib(at(gpu, 'fb_memory_usage/total')?.text),
    memoryUsedMib: parseMib(at(gpu, 'fb_memory_usage/used')?.text),
    utilizationPct: parseNumber(at(gpu, 'utilization/gpu_util')?.text),
    temperatureC: parseNumber(at(gpu, 'temperature/gpu_temp')?.text),
    powerW: firstNumber(gpu, POWER_PATHS),
    migEnabled,
    migDevices: migEnabled ? childrenNamed(child(gpu, 'mig_devices'), 'mig_device').map(parseMigDevice) : [],
    processes: childrenNamed(child(gpu, 'processes'), 'process_info').flatMap(parseProcess),
    signals: parseSignals(gpu),
  };
}

function parseMigDevice(device: XmlElement, position: number): MigRecord {
  const volatile = child(child(device, 'ecc_error_count'), 'volatile_count');
  return {
    index: parseCount(child(device, 'index')?.text) ?? position,
    gpuInstanceId: parseCount(child(device, 'gpu_instance_id')?.text),
    computeInstanceId: parseCount(child(device, 'compute_instance_id')?.text),
    memoryTotalMib: parseMib(at(device, 'fb_memory_usage/total')?.text),
    memoryUsedMib: parseMib(at(device, 'fb_memory_usage/used')?.text),
    volatileUncorrectable: sumUncorrectable(volatile),
  };
}

function parseProcess(info: XmlElement): ProcessRecord[] {
  const pid = parseCount(child(info, 'pid')?.text);
  if (pid === undefined) return [];
  return [
    {
      pid,
      name: child(info, 'process_name')?.text ?? '',
      type: availableText(child(info, 'type')?.text) ?? '',
      usedMemoryMib: parseMib(child(info, 'used_memory')?.text),
      gpuInstanceId: parseCount(child(info, 'gpu_instance_id')?.text),
      computeInstanceId: parseCount(child(info, 'compute_instance_id')?.text),
    },
  ];
}

function parseSignals(gpu: XmlElement): HealthSignals {
  const retired = child(gpu, 'retired_pages');
  const remapped = child(gpu, 'remapped_rows');
  const recovery = availableText(child(gpu, 'gpu_recovery_action')?.text);
  const reset = child(gpu, 'gpu_reset_status');
  const resetRequired =
    parseFlag(child(reset, 'reset_required')?.text) === true ||
    parseFlag(child(reset, 'drain_and_reset_recommended')?.text) === true;
  return {
    volatileUncorrectable: volatileUncorrectable(at(gpu, 'ecc_errors/volatile')),
    retiredPagesPending:
      parseFlag(child(retired, 'pending_retirement')?.text) ?? parseFlag(child(retired, 'pending_blacklist')?.text),
    remappedRowsPending: parseFlag(child(remapped, 'remapped_row_pending')?.text),
    remappedRowsFailure: parseFlag(child(remapped, 'remapped_row_failure')?.text),
    throttle: activeThrottle(child(gpu, 'clocks_event_reasons') ?? child(gpu, 'clocks_throttle_reasons')),
    recoveryAction: recovery,
    resetRequired: reset ? resetRequired : undefined,
    repairs: pendingRepairs(child(gpu, 'ecc_errors')),
  };
}

/** Old layout: `volatile/double_bit/total`; newer: the sum of `*uncorrectable*` counters. */
function volatileUncorrectable(volatile: XmlElement | undefined): number | undefined {
  if (!volatile) return undefined;
  const doubleBit = child(volatile, 'double_bit');
  if (doubleBit) {
    const total = parseCount(child(doubleBit, 'total')?.text);
    if (total !== undefined) return total;
    return sumChildren(doubleBit, () => true);
  }
  return sumUncorrectable(volatile);
}

function sumUncorrectable(element: XmlElement | undefined): number | undefined {
  return element ? sumChildren(element, (name) => name.includes('uncorrectable')) : undefined;
}

function sumChildren(element: XmlElement, include: (name: string) => boolean): number | undefined {
  let sum: number | undefined;
  for (const c of element.children) {
    if (!include(c.name) || c.name === 'total') continue;
    const value = parseCount(c.text);
    if (value !== undefined) sum = (sum ?? 0) + value;
  }
  return sum;
}

function activeThrottle(reasons: XmlElement | undefined): string[] {
  if (!reasons) return [];
  const active: string[] = [];
  for (const c of reasons.children) {
    const reason = BAD_THROTTLE.find((r) => c.name.endsWith(`_reason_${r}`));
    if (reason && parseFlag(c.text) === true) active.push(reason);
  }
  return active;
}

function pendingRepairs(ecc: XmlElement | undefined): string[] {
  if (!ecc) return [];
  return ['channel_repair_pending', 'tpc_repair_pending', 'unrepairable_memory'].filter(
    (name) => parseFlag(child(ecc, name)?.text) === true,
  );
}

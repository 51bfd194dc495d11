/**
 * Reads plain `nvidia-smi -q` (text) into the same records as the XML reader. The text form is
 * an indented `Key : Value` outline; sections repeat (`MIG Device`), and process entries are flat
 * runs of keys under `Processes`. Used where only text output is at hand (support bundles,
 * captures); the probe itself asks for XML.
 */
import type { GpuRecord, HealthSignals, MigRecord, ProcessRecord, SmiReport } from './records.js';
import { availableText, parseCount, parseFlag, parseMib, parseNumber } from './values.js';

export interface TextNode {
  key: string;
  value?: string;
  children: TextNode[];
}

/** The outline of a `-q` text report. */
export function parseTextOutline(text: string): TextNode {
  const root: TextNode = { key: '#root', children: [] };
  const stack: Array<{ indent: number; node: TextNode }> = [{ indent: -1, node: root }];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim().length === 0 || raw.trim().startsWith('=')) continue;
    const indent = raw.length - raw.trimStart().length;
    const match = /^(.*?)\s+:\s?(.*)$/.exec(raw.trim());
    const node: TextNode = match ? { key: match[1]!.trim(), value: match[2]!.trim(), children: [] } : { key: raw.trim(), children: [] };
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    stack[stack.length - 1]!.node.children.push(node);
    stack.push({ indent, node });
  }
  return root;
}

function get(node: TextNode | undefined, ...path: string[]): TextNode | undefined {
  let current = node;
  for (const key of path) current = current?.children.find((c) => c.key.toLowerCase() === key.toLowerCase());
  return current;
}

function value(node: TextNode | undefined, ...path: string[]): string | undefined {
  return get(node, ...path)?.value;
}

function firstNumber(node: TextNode, paths: string[][]): number | undefined {
  for (const path of paths) {
    const found = parseNumber(value(node, ...path));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Parses a whole `-q` text report; undefined when there is no GPU section nor header. */
export function parseSmiText(text: string): SmiReport | undefined {
  const root = parseTextOutline(text);
  const gpus = root.children.filter((c) => /^GPU [0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+$/.test(c.key));
  if (gpus.length === 0 && !get(root, 'Driver Version')) return undefined;
  return {
    driverVersion: availableText(value(root, 'Driver Version')),
    cudaVersion: availableText(value(root, 'CUDA Version')),
    attachedGpus: parseCount(value(root, 'Attached GPUs')),
    gpus: gpus.map((gpu, index) => toRecord(gpu, index)),
  };
}

function toRecord(gpu: TextNode, index: number): GpuRecord {
  const migEnabled = parseFlag(value(gpu, 'MIG Mode', 'Current')) === true;
  return {
    index,
    uuid: availableText(value(gpu, 'GPU UUID')) ?? '',
    name: availableText(value(gpu, 'Product Name')) ?? '',
    pciBusId: availableText(value(gpu, 'PCI', 'Bus Id')) ?? gpu.key.slice(4),
    memoryTotalMib: parseMib(value(gpu, 'FB Memory Usage', 'Total')),
    memoryUsedMib: parseMib(value(gpu, 'FB Memory Usage', 'Used')),
    utilizationPct: parseNumber(value(gpu, 'Utilization', 'Gpu')),
    temperatureC: parseNumber(value(gpu, 'Temperature', 'GPU Current Temp')),
    powerW: firstNumber(gpu, [
      ['GPU Power Readings', 'Power Draw'],
      ['GPU Power Readings', 'Average Power Draw'],
      ['GPU Power Readings', 'Instantaneous Power Draw'],
      ['Power Readings', 'Power Draw'],
    ]),
    migEnabled,
    migDevices: migEnabled ? gpu.children.filter((c) => c.key === 'MIG Device').map(toMig) : [],
    processes: toProcesses(get(gpu, 'Processes')),
    signals: toSignals(gpu),
  };
}

function toMig(device: TextNode, position: number): MigRecord {
  const memory = get(device, 'FB Memory Usage') ?? get(device, 'Shared FB Memory Usage');
  return {
    index: parseCount(value(device, 'Index')) ?? position,
    gpuInstanceId: parseCount(value(device, 'GPU Instance ID')),
    computeInstanceId: parseCount(value(device, 'Compute Instance ID')),
    memoryTotalMib: parseMib(value(memory, 'Total')),
    memoryUsedMib: parseMib(value(memory, 'Used')),
    volatileUncorrectable: sumUncorrectable(get(device, 'ECC Errors', 'Volatile')),
  };
}

function toProcesses(section: TextNode | undefined): ProcessRecord[] {
  const processes: ProcessRecord[] = [];
  let ids: { gi?: number; ci?: number } = {};
  for (const entry of section?.children ?? []) {
    if (entry.key === 'GPU instance ID') ids.gi = parseCount(entry.value);
    else if (entry.key === 'Compute instance ID') ids.ci = parseCount(entry.value);
    else if (entry.key === 'Process ID') {
      const pid = parseCount(entry.value);
      if (pid !== undefined) {
        processes.push({
          pid,
          type: availableText(value(entry, 'Type')) ?? '',
          name: value(entry, 'Name') ?? '',
          usedMemoryMib: parseMib(value(entry, 'Used GPU Memory')),
          gpuInstanceId: ids.gi,
          computeInstanceId: ids.ci,
        });
      }
      ids = {};
    }
  }
  return processes;
}

const THROTTLE_KEYS: Record<string, string> = {
  'hw slowdown': 'hw_slowdown',
  'hw thermal slowdown': 'hw_thermal_slowdown',
  'hw power brake slowdown': 'hw_power_brake_slowdown',
  'sw thermal slowdown': 'sw_thermal_slowdown',
};

function toSignals(gpu: TextNode): HealthSignals {
  const reasons = get(gpu, 'Clocks Event Reasons') ?? get(gpu, 'Clocks Throttle Reasons') ?? get(gpu, 'Clocks Throttle Reasons Active');
  const throttle = flatten(reasons)
    .filter((n) => THROTTLE_KEYS[n.key.toLowerCase()] && parseFlag(n.value) === true)
    .map((n) => THROTTLE_KEYS[n.key.toLowerCase()]!);
  const reset = get(gpu, 'GPU Reset Status');
  const ecc = get(gpu, 'ECC Errors');
  return {
    volatileUncorrectable: volatileUncorrectable(get(ecc, 'Volatile')),
    retiredPagesPending: parseFlag(value(gpu, 'Retired Pages', 'Pending Page Blacklist')) ?? parseFlag(value(gpu, 'Retired Pages', 'Pending')),
    remappedRowsPending: parseFlag(value(gpu, 'Remapped Rows', 'Pending')),
    remappedRowsFailure: parseFlag(value(gpu, 'Remapped Rows', 'Remapping Failure Occurred')),
    throttle,
    recoveryAction: availableText(value(gpu, 'GPU Recovery Action')),
    resetRequired: reset
      ? parseFlag(value(reset, 'Reset Required')) === true || parseFlag(value(reset, 'Drain and Reset Recommended')) === true
      : undefined,
    repairs: ['Channel Repair Pending', 'TPC Repair Pending', 'Unrepairable Memory']
      .filter((k) => parseFlag(value(ecc, k)) === true)
      .map((k) => k.toLowerCase().replace(/ /g, '_')),
  };
}

function flatten(node: TextNode | undefined): TextNode[] {
  return node ? node.children.flatMap((c) => [c, ...flatten(c)]) : [];
}

function volatileUncorrectable(volatile: TextNode | undefined): number | undefined {
  const doubleBit = get(volatile, 'Double Bit');
  if (doubleBit) return parseCount(value(doubleBit, 'Total'));
  return sumUncorrectable(volatile);
}

function sumUncorrectable(node: TextNode | undefined): number | undefined {
  let sum: number | undefined;
  for (const c of node?.children ?? []) {
    if (!/uncorrectable/i.test(c.key)) continue;
    const n = parseCount(c.value);
    if (n !== undefined) sum = (sum ?? 0) + n;
  }
  return sum;
}

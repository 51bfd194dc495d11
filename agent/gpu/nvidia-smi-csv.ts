/**
 * Reads `--query-gpu` and `--query-compute-apps` CSV, with or without header and units.
 * nvidia-smi does not quote cells, so a free-text cell (a process or GPU name) may contain
 * commas: the surplus cells of a row are joined back into that one column.
 */
import type { ComputeAppRecord, UsageRecord } from './records.js';
import { availableText, parseCount, parseMib, parseNumber } from './values.js';

export type CsvRow = Record<string, string>;

export interface CsvTable {
  /** Field names without their unit suffix (`memory.used [MiB]` → `memory.used`). */
  fields: string[];
  rows: CsvRow[];
}

/** The fields the usage sampler asks for, in this order. */
export const USAGE_FIELDS = [
  'index',
  'uuid',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
] as const;

/** The fields of the process query; `process_name` last, so its commas are harmless. */
export const COMPUTE_APP_FIELDS = ['gpu_uuid', 'gpu_bus_id', 'pid', 'used_memory', 'process_name'] as const;

const FREE_TEXT = ['process_name', 'name', 'gpu_name'];

/** Strips the `[unit]` of a header cell. */
export function fieldName(header: string): string {
  return header.replace(/\s*\[[^\]]*\]\s*$/, '').trim();
}

/**
 * Parses CSV. With `fields`, the text has no header (`noheader`); without, the first non-empty
 * line is the header. Rows whose cells cannot be matched to the fields are dropped.
 */
export function parseCsvTable(text: string, fields?: readonly string[]): CsvTable {
  const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
  let names = fields ? [...fields] : [];
  if (!fields) {
    const header = lines.shift();
    if (header === undefined) return { fields: [], rows: [] };
    names = header.split(',').map(fieldName);
  }
  const rows: CsvRow[] = [];
  for (const line of lines) {
    const cells = splitRow(line, names);
    if (cells) rows.push(Object.fromEntries(names.map((name, i) => [name, cells[i]!])));
  }
  return { fields: names, rows };
}

/** Splits on commas; surplus commas belong to the free-text column, kept verbatim. */
function splitRow(line: string, names: readonly string[]): string[] | undefined {
  const pieces = line.split(',');
  if (pieces.length === names.length) return pieces.map((p) => p.trim());
  const free = names.findIndex((name) => FREE_TEXT.includes(name));
  if (pieces.length < names.length || free < 0) return undefined;
  const after = names.length - free - 1;
  const middle = pieces.slice(free, pieces.length - after).join(',').trim();
  return [...pieces.slice(0, free).map((p) => p.trim()), middle, ...pieces.slice(pieces.length - after).map((p) => p.trim())];
}

/** A `--query-gpu` row as usage numbers. */
export function toUsageRecord(row: CsvRow): UsageRecord {
  return {
    index: parseCount(row['index']),
    uuid: availableText(row['uuid']),
    utilizationPct: parseNumber(row['utilization.gpu']),
    memoryUsedMib: parseMib(row['memory.used']),
    memoryTotalMib: parseMib(row['memory.total']),
    temperatureC: parseNumber(row['temperature.gpu']),
    powerW: parseNumber(row['power.draw']) ?? parseNumber(row['power.draw.average']) ?? parseNumber(row['power.draw.instant']),
  };
}

/** Parses `--query-gpu` output into usage records. */
export function parseQueryGpu(text: string, fields?: readonly string[]): UsageRecord[] {
  return parseCsvTable(text, fields).rows.map(toUsageRecord);
}

/** Parses `--query-compute-apps` output. One PID may appear on several GPUs: keep each pair. */
export function parseComputeApps(text: string, fields?: readonly string[]): ComputeAppRecord[] {
  const records: ComputeAppRecord[] = [];
  for (const row of parseCsvTable(text, fields).rows) {
    const pid = parseCount(row['pid']);
    if (pid === undefined) continue;
    records.push({
      gpuUuid: availableText(row['gpu_uuid']),
      gpuBusId: availableText(row['gpu_bus_id']),
      pid,
      name: availableText(row['process_name']) ?? '',
      usedMemoryMib: parseMib(row['used_memory'] ?? row['used_gpu_memory']),
    });
  }
  return records;
}

/** The field named in `Field "x" is not a valid field to query.`, if the text says so. */
export function invalidQueryField(text: string): string | undefined {
  return /Field "([^"]+)" is not a valid field to query/.exec(text)?.[1];
}

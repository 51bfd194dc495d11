/**
 * The per-GPU table, shared by `nsml agent gpus` (the local probe) and `nsml node show` (what a
 * node last reported): one row per GPU or MIG instance, then unhealthy GPUs and processes in full.
 */
import { formatTable, truncate } from './format.js';

/** The fields of a GpuInfo the table shows (wire and probe objects both fit). */
export interface GpuRow {
  index?: number;
  uuid?: string;
  name?: string;
  memoryTotalMib?: unknown;
  memoryUsedMib?: unknown;
  utilizationPct?: unknown;
  temperatureC?: unknown;
  powerW?: unknown;
  mig?: string;
  health?: string;
  healthReason?: string;
  processes?: Array<{ pid?: number; name?: string; usedMemoryMib?: unknown; session?: string }>;
}

export function formatGpuTable(gpus: readonly GpuRow[]): string {
  const rows = gpus.map((g) => [
    String(g.index ?? '-'),
    g.uuid || '-',
    g.name || '-',
    `${num(g.memoryUsedMib)}/${num(g.memoryTotalMib)} MiB`,
    suffix(g.utilizationPct, '%'),
    suffix(g.temperatureC, 'C'),
    suffix(g.powerW, 'W', 1),
    g.mig || '-',
    g.health || 'ok',
    String(g.processes?.length ?? 0),
  ]);
  const table = formatTable(['INDEX', 'UUID', 'NAME', 'MEMORY', 'UTIL', 'TEMP', 'POWER', 'MIG', 'HEALTH', 'PROCS'], rows);
  return table + details(gpus);
}

function details(gpus: readonly GpuRow[]): string {
  const lines: string[] = [];
  for (const g of gpus) {
    if (g.health && g.health !== 'ok') lines.push(`GPU ${g.index} ${g.health}: ${g.healthReason || '(no reason given)'}`);
    for (const p of g.processes ?? []) {
      const owner = p.session ? `session ${p.session}` : 'foreign';
      lines.push(`GPU ${g.index} pid ${p.pid} ${owner} ${num(p.usedMemoryMib)} MiB ${truncate(p.name ?? '', 80)}`);
    }
  }
  return lines.length > 0 ? `\n${lines.join('\n')}\n` : '';
}

function num(value: unknown): string {
  return value === undefined || value === null ? '-' : String(Number(value));
}

function suffix(value: unknown, unit: string, digits = 0): string {
  if (value === undefined || value === null) return '-';
  return `${Number(value).toFixed(digits)}${unit === '%' ? '%' : ` ${unit}`}`;
}

// Conformance over every recorded nvidia-smi output in <repoRoot>/../shared/fixtures/nvidia-smi
// (read in place, never copied; skipped when the folder is missing). For each file: GPU count,
// names, memory totals, and the oddities its README lists.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { assessInventory } from './assess.js';
import { HealthTracker } from './health.js';
import { COMPUTE_APP_FIELDS, parseCsvTable, parseComputeApps, parseQueryGpu, USAGE_FIELDS } from './nvidia-smi-csv.js';
import { parseSmiList } from './nvidia-smi-list.js';
import { parseSmiText } from './nvidia-smi-text.js';
import { parseSmiXml } from './nvidia-smi-xml.js';
import type { SmiReport } from './records.js';
import { classifySmiFailure } from './smi-failure.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures', 'nvidia-smi');
const present = existsSync(ROOT);
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every number anywhere in a parsed value is finite (never NaN). */
function expectNoNaN(value: unknown): void {
  JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    return v;
  });
  expect(JSON.stringify(value)).not.toContain('NaN');
}

function health(report: SmiReport): string[] {
  return assessInventory({ gpus: report.gpus, listed: [], failures: [] }, [], new HealthTracker(3), undefined).map((u) => u.health.health);
}

interface XmlExpectation {
  names: string[];
  memory: Array<number | undefined>;
  attached?: number;
  check?: (report: SmiReport) => void;
}

const XML: Record<string, XmlExpectation> = {
  'telegraf__a100-sxm4-80gb-mig__535.54.03__v12.xml': {
    names: ['NVIDIA A100-SXM4-80GB'], memory: [81920], attached: 4,
    check: (r) => {
      const gpu = r.gpus[0]!;
      expect(gpu.migEnabled).toBe(true);
      expect(gpu.migDevices.map((d) => d.memoryTotalMib)).toEqual([19968, 19968, 19968, 19968]);
      expect(gpu.utilizationPct).toBeUndefined();
      const units = assessInventory({ gpus: r.gpus, listed: [], failures: [] }, [], new HealthTracker(3), undefined);
      expect(units.map((u) => [u.index, u.uuid])).toEqual([0, 1, 2, 3].map((i) => [i, `MIG-GPU-513536b6-7d19-9063-b049-1e69664bb298/${i + 3}/0`]));
    },
  },
  'telegraf__a10g__515.105.01__v11.xml': { names: ['NVIDIA A10G'], memory: [23028], check: (r) => {
    expect(r.gpus[0]!.pciBusId).toBe('00000000:00:1E.0');
    expect(r.gpus[0]!.processes.map((p) => p.type)).toEqual(['G']);
    expect(r.gpus[0]!.signals).toMatchObject({ remappedRowsPending: false, remappedRowsFailure: false });
  } },
  'telegraf__tesla-t4__515.105.01__v11.xml': { names: ['Tesla T4'], memory: [15360], check: (r) => {
    expect(r.gpus[0]!.signals).toMatchObject({ volatileUncorrectable: 0, retiredPagesPending: false });
    expect(r.gpus[0]!.processes.map((p) => p.type).sort()).toEqual(['C', 'G']);
  } },
  'telegraf__tesla-t4-wddm__512.78__v11.xml': { names: ['Tesla T4'], memory: [15360], check: (r) => {
    expect(r.gpus[0]!.processes).toHaveLength(15);
    expect(r.gpus[0]!.processes.every((p) => p.usedMemoryMib === undefined)).toBe(true);
  } },
  'telegraf__grid-p4-1q-vgpu-wddm__513.46__v11.xml': { names: ['GRID P4-1Q'], memory: [1024], check: (r) => {
    expect(r.gpus[0]!.powerW).toBeUndefined();
    expect(r.gpus[0]!.processes).toHaveLength(13);
    expect(r.gpus[0]!.processes.every((p) => p.usedMemoryMib === undefined)).toBe(true);
  } },
  'telegraf__gtx-1660-ti__418.43__no-doctype.xml': { names: ['Graphics Device'], memory: [5912] },
  'telegraf__gtx-1070-ti__unknown__v10__trimmed.xml': { names: ['GeForce GTX 1070 Ti'], memory: [4096], check: (r) => {
    expect(r.driverVersion).toBeUndefined();
    expect(r.attachedGpus).toBeUndefined();
    expect(r.gpus[0]!.powerW).toBeUndefined();
  } },
  'telegraf__gt-1030__470.74__v11.xml': { names: ['NVIDIA GeForce GT 1030'], memory: [1998], check: (r) => {
    expect(r.gpus[0]!.powerW).toBeUndefined();
    expect(r.gpus[0]!.processes).toHaveLength(10);
    expect(r.gpus[0]!.processes.some((p) => p.name.includes(','))).toBe(true);
  } },
  'telegraf__quadro-p2000__525.125.06__v12.xml': { names: ['Quadro P2000'], memory: [5120], check: (r) => expect(r.gpus[0]!.powerW).toBe(4.61) },
  'telegraf__rtx-3060__570.124.04__v12.xml': { names: ['NVIDIA GeForce RTX 3060'], memory: [12288], check: (r) => {
    expect(r.gpus[0]!.powerW).toBe(11.6);
    expect(r.gpus[0]!.signals.recoveryAction).toBeUndefined();
  } },
  'telegraf__rtx-3080-wddm__536.40__v12.xml': { names: ['NVIDIA GeForce RTX 3080'], memory: [10240], check: (r) => expect(r.gpus[0]!.powerW).toBe(22.78) },
  'telegraf__rtx-3080__595.58.03__v13.xml': { names: ['NVIDIA GeForce RTX 3080'], memory: [10240], check: (r) => {
    expect(r.gpus[0]).toMatchObject({ powerW: 139.62, utilizationPct: 65, memoryUsedMib: 9184 });
  } },
  'telegraf__rtx-3090__525.147.05__v12.xml': { names: ['NVIDIA GeForce RTX 3090'], memory: [24576], check: (r) => expect(r.gpus[0]!.powerW).toBe(27.23) },
  'telegraf__rtx-3090__590.44.01__v13.xml': { names: ['NVIDIA GeForce RTX 3090'], memory: [24576], check: (r) => {
    expect(r.gpus[0]!.powerW).toBe(35.06);
    expect(r.gpus[0]!.signals.throttle).toEqual([]);
  } },
  'telegraf__rtx-2080-x2__590.44.01__v13.xml': { names: ['NVIDIA GeForce RTX 2080', 'NVIDIA GeForce RTX 2080'], memory: [8192, 8192] },
  'telegraf__rtx-a5000-x2__590.44.01__v13.xml': { names: ['NVIDIA RTX A5000', 'NVIDIA RTX A5000'], memory: [24564, 24564], check: (r) => {
    expect(r.gpus.map((g) => g.processes.map((p) => [p.pid, p.usedMemoryMib]))).toEqual([[[100477, 22430]], [[100477, 17246]]]);
  } },
  'pai__gtx-1070-x2__384.66__v9.xml': { names: ['GeForce GTX 1070', 'GeForce GTX 1070'], memory: [8112, 8114], attached: 6, check: (r) => {
    expect(r.cudaVersion).toBeUndefined();
    expect(r.gpus.map((g) => g.processes.some((p) => p.pid === 3093))).toEqual([true, true]);
  } },
  'pai__gt-730__384.111__v9__trimmed.xml': { names: ['GeForce GT 730'], memory: [undefined], check: (r) => expect(r.gpus[0]!.utilizationPct).toBeUndefined() },
  'pai__rtx-2080-ti-x2__410.73__v10.xml': { names: ['GeForce RTX 2080 Ti', 'GeForce RTX 2080 Ti'], memory: [10989, 10989], check: (r) => {
    expect(r.gpus.map((g) => g.signals.volatileUncorrectable)).toEqual([undefined, undefined]);
  } },
  'pai__tesla-v100-sxm3-32gb__410.104__v10__ecc-retired-pages.xml': { names: ['Tesla V100-SXM3-32GB'], memory: [32480], attached: 16, check: (r) => {
    expect(r.gpus[0]!.signals).toMatchObject({ volatileUncorrectable: 1, retiredPagesPending: true });
  } },
};

/** Files whose GPUs are not all healthy, and what the probe must say. */
const UNHEALTHY: Record<string, string[]> = {
  'pai__tesla-v100-sxm3-32gb__410.104__v10__ecc-retired-pages.xml': ['quarantined'],
};

describe.skipIf(!present)('xml/ (nvidia-smi -q -x)', () => {
  test('every file has an expectation', () => {
    expect(readdirSync(join(ROOT, 'xml')).sort()).toEqual(Object.keys(XML).sort());
  });

  test.each(Object.entries(XML))('%s', (file, expected) => {
    const report = parseSmiXml(read(`xml/${file}`))!;
    expect(report.gpus.map((g) => g.name)).toEqual(expected.names);
    expect(report.gpus.map((g) => g.memoryTotalMib)).toEqual(expected.memory);
    expect(report.gpus.every((g) => /^GPU-[0-9a-f-]+$/.test(g.uuid))).toBe(true);
    if (expected.attached !== undefined) expect(report.attachedGpus).toBe(expected.attached);
    expect(health(report)).toEqual(UNHEALTHY[file] ?? health(report).map(() => 'ok'));
    expectNoNaN(report);
    expected.check?.(report);
  });
});

const MODELS: Record<string, { name: string; memory: number }> = {
  'h100-80gb-hbm3': { name: 'NVIDIA H100 80GB HBM3', memory: 81559 },
  'rtx-2080-super': { name: 'NVIDIA GeForce RTX 2080 SUPER', memory: 8192 },
  'rtx-4080-super': { name: 'NVIDIA GeForce RTX 4080 SUPER', memory: 16376 },
};

function model(file: string) {
  const key = Object.keys(MODELS).find((m) => file.includes(`__${m}`))!;
  return { ...MODELS[key]!, mig: file.includes('-mig__') };
}

const APPS: Record<string, number> = {
  'h100-80gb-hbm3-mig__590.48.01__load': 3, 'h100-80gb-hbm3__590.48.01__load': 3,
  'rtx-2080-super__595.71.05__load': 2, 'rtx-2080-super__610.57.04__load': 2,
  'rtx-4080-super__595.71.05__idle': 1, 'rtx-4080-super__595.71.05__load': 3,
  'windows__rtx-2080-super__591.86__idle': 10, 'windows__rtx-2080-super__591.86__load': 12,
  'windows__rtx-2080-super__610.62__idle': 19, 'windows__rtx-2080-super__610.62__load': 21,
};

function appCount(file: string): number {
  return Object.entries(APPS).find(([key]) => file.includes(key))?.[1] ?? 0;
}

/** `--format=csv,noheader,nounits` made from a `--format=csv` file: header dropped, unit suffixes stripped. */
function withoutHeaderAndUnits(text: string): { fields: string[]; body: string } {
  const table = parseCsvTable(text);
  const body = table.rows.map((row) => table.fields.map((f) => row[f]!.replace(/ (MiB|%|W|MHz|C|us|KB\/s)$/, '')).join(', ')).join('\n');
  return { fields: table.fields, body };
}

describe.skipIf(!present)('csv/ (--query-gpu, --query-compute-apps)', () => {
  const files = present ? readdirSync(join(ROOT, 'csv')) : [];

  test.each(files.filter((f) => f.endsWith('query-gpu.csv')))('%s', (file) => {
    const text = read(`csv/${file}`);
    const { name, memory, mig } = model(file);
    const table = parseCsvTable(text);
    expect(table.rows).toHaveLength(1);
    expect(table.rows[0]!['name']).toBe(name);
    const [usage] = parseQueryGpu(text);
    expect(usage).toMatchObject({ index: 0, memoryTotalMib: memory, uuid: 'GPU-00000000-0000-0000-0000-000000000000' });
    expect(usage!.utilizationPct === undefined).toBe(mig);
    expect(usage!.powerW).toBeGreaterThan(0);
    expectNoNaN(table.rows.map((row) => parseQueryGpu(Object.keys(row).join(',') + '\n' + Object.values(row).join(', '))));
    const plain = withoutHeaderAndUnits(text);
    expect(parseQueryGpu(plain.body, plain.fields)).toEqual([usage]);
  });

  test.each(files.filter((f) => f.endsWith('compute-apps.csv')))('%s', (file) => {
    const apps = parseComputeApps(read(`csv/${file}`));
    expect(apps).toHaveLength(appCount(file));
    expect(apps.every((a) => a.gpuUuid === 'GPU-00000000-0000-0000-0000-000000000000' && a.pid > 0 && a.name.length > 0)).toBe(true);
    const windows = file.includes('windows');
    expect(apps.every((a) => (a.usedMemoryMib === undefined) === windows)).toBe(true);
    if (windows) expect(apps.some((a) => a.name.includes('Program Files (x86)') || a.name.includes('C:\\Program Files\\'))).toBe(true);
  });
});

/** Sections of a capture: `# <state> :: <name>` → body. */
function sections(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const parts = text.split(/^#{80}$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const title = /^# (.+?)$/m.exec(parts[i]!)?.[1];
    if (title) found.set(title.trim(), parts[i + 1]!);
  }
  return found;
}

describe.skipIf(!present)('captures/', () => {
  const files = present ? readdirSync(join(ROOT, 'captures')) : [];

  test.each(files)('%s', (file) => {
    const parts = sections(read(`captures/${file}`));
    const { name, memory, mig } = model(file);
    const listed = parseSmiList(parts.get('capabilities :: list (-L)')!);
    expect(listed.map((g) => [g.index, g.name])).toEqual([[0, name]]);
    expect(listed[0]!.mig.map((m) => m.profile)).toEqual(mig ? ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb'] : []);
    for (const state of ['idle', 'load']) {
      const report = parseSmiText(parts.get(`${state} :: query (-q)`)!)!;
      expect(report.gpus.map((g) => [g.name, g.memoryTotalMib])).toEqual([[name, memory]]);
      expect(report.gpus[0]!.migDevices.map((d) => d.memoryTotalMib)).toEqual(mig ? [40448, 20096, 9984, 9984] : []);
      const units = assessInventory({ gpus: report.gpus, listed, failures: [] }, [], new HealthTracker(3), undefined);
      expect(units.map((u) => u.health.health)).toEqual(units.map(() => 'ok'));
      if (mig) expect(units.map((u) => u.mig)).toEqual(['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb']);
      expectNoNaN(report);
      const usage = parseQueryGpu(parts.get(`${state} :: query-gpu (csv, what the exporter parses)`)!);
      expect(usage.map((u) => u.memoryTotalMib)).toEqual([memory]);
      expect(parseComputeApps(parts.get(`${state} :: query-compute-apps (per-process)`)!)).toHaveLength(appCount(`${file.replace('.capture.txt', '')}__${state}`.replace('nge__linux__', '')));
    }
  });

  test('MIG capture: the busy instance holds the load processes', () => {
    const file = files.find((f) => f.includes('-mig__'))!;
    const parts = sections(read(`captures/${file}`));
    const listed = parseSmiList(parts.get('capabilities :: list (-L)')!);
    const report = parseSmiText(parts.get('load :: query (-q)')!)!;
    const units = assessInventory({ gpus: report.gpus, listed, failures: [] }, [], new HealthTracker(3), undefined);
    expect(units.map((u) => u.processes.length)).toEqual([3, 0, 0, 0]);
    expect(units[0]!.uuid).toBe('MIG-00000000-0000-0000-0000-000000000000');
  });
});

describe.skipIf(!present)('query-text/ (nvidia-smi -q)', () => {
  test.each([
    ['gpud__h100-80gb-hbm3-x8__535.161.08__query.txt', 'NVIDIA H100 80GB HBM3', 81559, 0, 'quarantined'],
    ['gpud__rtx-4090-x8__535.154.05__query.txt', 'NVIDIA GeForce RTX 4090', 24564, 3, 'ok'],
  ])('%s', (file, name, memory, processes, expectedHealth) => {
    const report = parseSmiText(read(`query-text/${file}`))!;
    expect(report.attachedGpus).toBe(8);
    expect(report.gpus.map((g) => [g.name, g.memoryTotalMib])).toEqual(Array.from({ length: 8 }, () => [name, memory]));
    expect(report.gpus.flatMap((g) => g.processes)).toHaveLength(processes);
    expect(health(report)).toEqual(Array.from({ length: 8 }, () => expectedHealth));
    expectNoNaN(report);
  });

  test('the H100 node: HW slowdown and power brake are the reasons', () => {
    const report = parseSmiText(read('query-text/gpud__h100-80gb-hbm3-x8__535.161.08__query.txt'))!;
    expect(report.gpus[0]!.signals.throttle).toEqual(['hw_slowdown', 'hw_power_brake_slowdown']);
    expect(report.gpus[0]!.signals).toMatchObject({ remappedRowsPending: false, remappedRowsFailure: false });
  });
});

describe.skipIf(!present)('README failure messages', () => {
  // The quoted text of each row of the README's failure table, and how the probe reads it.
  test.each([
    ['Driver not loaded', 'driver-not-loaded'],
    ['GPU fell off the bus', 'gpu-handle'],
    ['Device handle failure, other cause', 'gpu-handle'],
    ['Driver/library mismatch', 'version-mismatch'],
    ['Container lost device access', 'nvml-error'],
    ['NVML library not found', 'nvml-missing'],
    ['No GPU visible', 'no-devices'],
    ['Query field unknown to this driver', 'invalid-field'],
  ])('%s → %s', (situation, kind) => {
    const row = read('README.md').split('\n').find((line) => line.startsWith(`| ${situation}`))!;
    const quotes = [...row.split('|')[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    expect(quotes.length).toBeGreaterThan(0);
    // The first quote is what nvidia-smi prints; the others are its follow-up lines or variants.
    expect(classifySmiFailure(`${quotes[0]}\n`, '', 1).kind).toBe(kind);
    expect(classifySmiFailure(quotes.join('\n'), '', 1).kind).toBe(kind);
  });
});

describe.skipIf(!present)('USAGE_FIELDS exist in every capture driver', () => {
  test.each(present ? readdirSync(join(ROOT, 'captures')) : [])('%s', (file) => {
    const help = sections(read(`captures/${file}`)).get('capabilities :: help-query-gpu')!;
    for (const field of USAGE_FIELDS) expect(help).toContain(`"${field}"`);
    const appsHelp = sections(read(`captures/${file}`)).get('capabilities :: help-query-compute-apps')!;
    for (const field of COMPUTE_APP_FIELDS) expect(appsHelp).toContain(`"${field}"`);
  });
});

/**
 * `nsml agent gpus [--json] [--nvidia-smi PATH]`: runs the GPU probe on this machine once and
 * prints what the agent would report: each GPU (or MIG instance) with its memory, usage,
 * health and processes. Exit 0 whatever the node has (0 GPUs included); 2 on a usage error.
 */
import type { GpuInfo } from '../../common/proto/types.js';
import { createGpuProbe } from '../../agent/gpu/index.js';
import type { GpuState } from '../../agent/gpu/types.js';
import { formatTable, truncate } from '../format.js';
import { intFlag, parseFlags } from '../flags.js';
import { processIo, printJson, type CliIo } from '../io.js';

const USAGE = `Usage: nsml agent gpus [--json] [--nvidia-smi PATH] [--timeout MS]

Runs the node's GPU probe once (nvidia-smi -q -x) and prints every GPU, or every MIG instance
when MIG is enabled: index, UUID, name, memory used/total, utilization, temperature, power,
health (and why) and processes (foreign ones, not started by nsml, block the GPU).

  --json             print the probe's state as JSON
  --nvidia-smi PATH  the nvidia-smi binary (default: $NSML_NVIDIA_SMI, else nvidia-smi on PATH)
  --timeout MS       per nvidia-smi call (default 10000)
`;

const FLAGS = {
  json: { type: 'boolean' },
  'nvidia-smi': { type: 'string' },
  timeout: { type: 'string' },
} as const;

export async function agentGpus(argv: string[], io: CliIo = processIo(new AbortController().signal)): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'agent gpus');
  if (!parsed) {
    io.out(USAGE);
    return 0;
  }
  const probe = createGpuProbe({
    nvidiaSmi: parsed.values['nvidia-smi'],
    timeoutMs: intFlag(parsed.values.timeout, '--timeout', 10_000, 100, 600_000),
    background: false,
    sampling: 'off',
    env: io.env,
  });
  try {
    const state = await probe.read();
    if (parsed.values.json) printJson(io, state);
    else io.out(formatGpuState(state));
    return 0;
  } finally {
    probe.destroy();
  }
}

/** The human view: one table row per GPU, then reasons and processes in full. */
export function formatGpuState(state: GpuState): string {
  const head = state.driverVersion ? `driver ${state.driverVersion}${state.cudaVersion ? `, CUDA ${state.cudaVersion}` : ''}\n` : '';
  if (state.gpus.length === 0) {
    const reason = state.error ?? state.notice ?? 'nvidia-smi lists no GPU';
    return `${head}no NVIDIA GPU found: ${reason}\n`;
  }
  const rows = state.gpus.map((g) => [
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
  const error = state.error ? `probe error: ${state.error}\n` : '';
  return head + error + table + details(state.gpus);
}

function details(gpus: GpuInfo[]): string {
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

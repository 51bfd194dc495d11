/**
 * `nsml agent gpus [--json] [--nvidia-smi PATH]`: runs the GPU probe on this machine once and
 * prints what the agent would report: each GPU (or MIG instance) with its memory, usage,
 * health and processes. Exit 0 whatever the node has (0 GPUs included); 2 on a usage error.
 */
import { createGpuProbe } from '../../agent/gpu/index.js';
import type { GpuState } from '../../agent/gpu/types.js';
import { formatGpuTable } from '../gpu-table.js';
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

/** The human view: driver versions, then the per-GPU table (cli/gpu-table.ts). */
export function formatGpuState(state: GpuState): string {
  const head = state.driverVersion ? `driver ${state.driverVersion}${state.cudaVersion ? `, CUDA ${state.cudaVersion}` : ''}\n` : '';
  if (state.gpus.length === 0) {
    const reason = state.error ?? state.notice ?? 'nvidia-smi lists no GPU';
    return `${head}no NVIDIA GPU found: ${reason}\n`;
  }
  const error = state.error ? `probe error: ${state.error}\n` : '';
  return head + error + formatGpuTable(state.gpus);
}

/** GpuProbeOptions, validated once with defaults filled. */
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { resolveScope, type GpuScope } from './scope.js';
import { createProcSessionResolver, type SessionResolver } from './session-owner.js';
import type { GpuProbeOptions, ProbeEvent } from './types.js';
import type { SamplingStrategy } from './usage-sampler.js';

export interface CompiledGpuProbeOptions {
  nvidiaSmi: string;
  scope: GpuScope | undefined;
  timeoutMs: number;
  inventoryIntervalMs: number;
  usageIntervalMs: number;
  sampling: SamplingStrategy | 'off';
  releaseAfterChecks: number;
  background: boolean;
  env: NodeJS.ProcessEnv;
  sessionOf: SessionResolver;
  onEvent: (event: ProbeEvent) => void;
}

/** The nvidia-smi binary: an explicit option, else NSML_NVIDIA_SMI, else `nvidia-smi` on PATH. */
export function nvidiaSmiBinary(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit !== undefined && explicit.length > 0) return explicit;
  const fromEnv = env.NSML_NVIDIA_SMI;
  return fromEnv !== undefined && fromEnv.length > 0 ? fromEnv : 'nvidia-smi';
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `GPU probe option ${name} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}

export function compileGpuProbeOptions(options: GpuProbeOptions = {}): CompiledGpuProbeOptions {
  const env = options.env ?? process.env;
  if (options.gpus?.some((g) => !Number.isInteger(g) || g < 0)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `--gpus must list GPU indices (0, 1, ...), got ${options.gpus.join(',')}`);
  }
  const sampling = options.sampling ?? 'stream';
  if (!['stream', 'spawn', 'off'].includes(sampling)) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `GPU sampling must be stream, spawn or off, got ${String(sampling)}`);
  }
  const release = options.releaseAfterChecks ?? 3;
  if (!Number.isInteger(release) || release < 1) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `releaseAfterChecks must be an integer >= 1, got ${release}`);
  }
  return {
    nvidiaSmi: nvidiaSmiBinary(options.nvidiaSmi, env),
    scope: resolveScope(options.gpus, env),
    timeoutMs: positive('timeoutMs', options.timeoutMs, 10_000),
    inventoryIntervalMs: positive('inventoryIntervalMs', options.inventoryIntervalMs, 30_000),
    usageIntervalMs: positive('usageIntervalMs', options.usageIntervalMs, 5_000),
    sampling,
    releaseAfterChecks: release,
    background: options.background ?? true,
    env,
    sessionOf: options.sessionOf ?? createProcSessionResolver(),
    onEvent: options.onEvent ?? (() => {}),
  };
}

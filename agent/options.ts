import { networkInterfaces } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorCodes, NsmlError } from '../common/errors.js';
import { type ClientTls, type ClientTlsOptions, compileClientTls } from '../common/grpc/credentials.js';
import { AGENT_KEEPALIVE } from '../common/grpc/options.js';
import { createLogger, type Logger } from '../common/log.js';
import { repoRoot } from '../common/proto/load.js';
import type { GpuProbe } from './gpu/types.js';
import type { BlobSource } from './cache/blob-source.js';
import type { RunAsOption } from './run-as/index.js';
import type { CheckpointsFactory } from './session-bridge/rank-handler.js';

/** What `startAgent` accepts. Every duration is in milliseconds. */
export interface AgentOptions {
  /** The coordinator, `HOST:PORT` (required). */
  coordinator: string;
  /** The agent's state: node id, blob cache, one folder per session rank (required). */
  dataDir: string;
  /** Default: generated once and kept in `<dataDir>/node-id`. */
  nodeId?: string;
  /** The address other ranks use to reach this node; default the first non-internal IPv4, else 127.0.0.1. */
  advertiseAddress?: string;
  /** Only these node-local GPU indices are offered; default all that the probe sees. */
  gpus?: number[];
  /** The nvidia-smi binary for the default probe. */
  nvidiaSmi?: string;
  /** Default: `createGpuProbe({ nvidiaSmi, gpus })` from agent/gpu. */
  gpuProbe?: GpuProbe;
  /** Where blobs come from; default the coordinator's BlobService. */
  blobSource?: BlobSource;
  /** Saves and loads the checkpoints of a rank's script; default agent/checkpoints over the coordinator's services. */
  checkpoints?: CheckpointsFactory;
  /** The Python that runs the supervisor and `.py` entries; default `python3`. */
  python?: string;
  /** Put first on PYTHONPATH so that `import nsml` works; default `<repo>/sdk-python/src`. */
  sdkPath?: string;
  /**
   * Between SIGTERM and SIGKILL for `stopAllSessions()`; default 10000. A coordinator's stop
   * carries its own grace (0 kills at once).
   */
  stopGraceMs?: number;
  /** Reconnection backoff bounds; default 250 and 5000 (exponential, with jitter). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long to wait for `registered` after `register`; default 10000. */
  registerTimeoutMs?: number;
  /** How often session output is read and shipped; default 50. */
  logFlushMs?: number;
  /** A longer line is split into pieces of this many bytes; default 65536. */
  maxLineBytes?: number;
  /** How many log lines may be sent and not yet acknowledged, per rank; default 20000. */
  maxUnackedLines?: number;
  /** A finished rank is forgotten this long after its end was told, even without log acks; default 600000. */
  finishedRetentionMs?: number;
  /**
   * A finished rank whose log is all acknowledged is forgotten (its folder removed) once its end
   * was told this long ago on a stream that is still open; default 20000 (longer than it takes
   * keepalive to notice a dead connection).
   */
  finishedConfirmMs?: number;
  /** Sent in `register`; checked by a coordinator that requires one. */
  joinToken?: string;
  /** Transport security to the coordinator (`--ca`, `--tls`, `--tls-cert`, `--tls-key`); default plaintext. Files are read at start. */
  tls?: ClientTlsOptions;
  /**
   * Whose uid runs each session (agent/run-as/session-users.ts); default `{ mode: 'none' }`, the
   * agent's own user (`nsml agent` defaults to `accounts` when root). Any other mode needs root.
   */
  runAs?: RunAsOption;
  /** Labels sent with the inventory. */
  labels?: Record<string, string>;
  /** A session whose GPUs here all stay at 0 % utilization this long is reported idle; default 30 minutes. */
  idleWindowMs?: number;
  /** Size budget of the dataset cache in bytes (least recently used unused versions go first); default 100 GiB. */
  datasetCacheBytes?: number;
  /**
   * Below this many free bytes in the data directory the node reports itself full
   * (NSML_E_DISK_FULL) and is given nothing new; default 100 MiB.
   */
  minFreeBytes?: number;
  /** More Pythons sessions may ask for (`--pythons`), beside python3 and python3.X found on PATH. */
  pythons?: string[];
  /** Size budget of the virtual environment cache in bytes (`--env-cache-bytes`); default 20 GiB. */
  envCacheBytes?: number;
  /** Fail a session whose setup.py names an image when the node has no container runtime (`--require-images`); default false: warn. */
  requireImages?: boolean;
  /** 'podman', 'docker', a path to either, or 'none' (`--container-runtime`); default: podman, else docker whose daemon answers. */
  containerRuntime?: string;
  logger?: Logger;
  clock?: Clock;
}

export interface CompiledAgentOptions {
  coordinator: string;
  dataDir: string;
  nodeId: string | undefined;
  advertiseAddress: string;
  gpus: number[] | undefined;
  nvidiaSmi: string | undefined;
  gpuProbe: GpuProbe | undefined;
  blobSource: BlobSource | undefined;
  checkpoints: CheckpointsFactory | undefined;
  python: string;
  sdkPath: string;
  stopGraceMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  registerTimeoutMs: number;
  logFlushMs: number;
  maxLineBytes: number;
  maxUnackedLines: number;
  finishedRetentionMs: number;
  finishedConfirmMs: number;
  joinToken: string;
  runAs: RunAsOption;
  tls: ClientTls;
  labels: Record<string, string>;
  datasetCacheBytes: number;
  minFreeBytes: number;
  pythons: string[];
  envCacheBytes: number;
  requireImages: boolean;
  containerRuntime: string | undefined;
  idleWindowMs: number;
  logger: Logger;
  clock: Clock;
}

function bad(what: string, got: unknown, todo: string): NsmlError {
  return new NsmlError(ErrorCodes.CONFIG, `agent option ${what}: got ${JSON.stringify(got)}; ${todo}`);
}

function duration(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw bad(name, value, `expected a number of milliseconds >= ${min}`);
  return Math.round(v);
}

/** The first non-internal IPv4 address of this host, else loopback. */
export function defaultAdvertiseAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

function checkCoordinator(address: string | undefined): string {
  if (typeof address !== 'string' || !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw bad('coordinator', address, 'expected HOST:PORT, e.g. 10.0.0.5:7450');
  }
  return address;
}

function checkGpus(gpus: number[] | undefined): number[] | undefined {
  if (gpus === undefined) return undefined;
  if (!Array.isArray(gpus) || gpus.some((g) => !Number.isInteger(g) || g < 0) || new Set(gpus).size !== gpus.length) {
    throw bad('gpus', gpus, 'expected distinct non-negative GPU indices, e.g. [0, 1]');
  }
  return [...gpus];
}

function checkPythons(list: string[] | undefined): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw bad('pythons', list, 'expected interpreter paths or names, e.g. ["/opt/python3.10/bin/python3.10"]');
  }
  return list.map((p) => p.trim());
}

/** Validates the options once, fills the defaults and resolves paths. */
export function compileAgentOptions(options: AgentOptions): CompiledAgentOptions {
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
    throw bad('dataDir', options.dataDir, 'name the folder where the agent keeps its state, e.g. ~/.nsml/agent');
  }
  const reconnectMinMs = duration('reconnectMinMs', options.reconnectMinMs, 250, 1);
  const reconnectMaxMs = duration('reconnectMaxMs', options.reconnectMaxMs, 5_000, reconnectMinMs);
  const maxLineBytes = duration('maxLineBytes', options.maxLineBytes, 64 * 1024, 16);
  return {
    coordinator: checkCoordinator(options.coordinator),
    dataDir: resolve(options.dataDir),
    nodeId: options.nodeId,
    advertiseAddress: options.advertiseAddress ?? defaultAdvertiseAddress(),
    gpus: checkGpus(options.gpus),
    nvidiaSmi: options.nvidiaSmi,
    gpuProbe: options.gpuProbe,
    blobSource: options.blobSource,
    checkpoints: options.checkpoints,
    python: options.python ?? 'python3',
    sdkPath: options.sdkPath ? (isAbsolute(options.sdkPath) ? options.sdkPath : resolve(options.sdkPath)) : join(repoRoot(), 'sdk-python', 'src'),
    stopGraceMs: duration('stopGraceMs', options.stopGraceMs, 10_000),
    reconnectMinMs,
    reconnectMaxMs,
    registerTimeoutMs: duration('registerTimeoutMs', options.registerTimeoutMs, 10_000, 1),
    logFlushMs: duration('logFlushMs', options.logFlushMs, 50, 1),
    maxLineBytes,
    maxUnackedLines: duration('maxUnackedLines', options.maxUnackedLines, 20_000, 1),
    finishedRetentionMs: duration('finishedRetentionMs', options.finishedRetentionMs, 600_000),
    finishedConfirmMs: duration('finishedConfirmMs', options.finishedConfirmMs, AGENT_KEEPALIVE.timeMs + AGENT_KEEPALIVE.timeoutMs + 5_000),
    joinToken: options.joinToken ?? '',
    runAs: options.runAs ?? { mode: 'none' },
    tls: compileClientTls(options.tls),
    labels: { ...(options.labels ?? {}) },
    datasetCacheBytes: duration('datasetCacheBytes', options.datasetCacheBytes, 100 * 1024 ** 3),
    minFreeBytes: duration('minFreeBytes', options.minFreeBytes, 100 * 1024 ** 2),
    idleWindowMs: duration('idleWindowMs', options.idleWindowMs, 30 * 60_000),
    pythons: checkPythons(options.pythons),
    envCacheBytes: duration('envCacheBytes', options.envCacheBytes, 20 * 1024 ** 3),
    requireImages: options.requireImages ?? false,
    containerRuntime: options.containerRuntime,
    logger: options.logger ?? createLogger({ component: 'agent' }),
    clock: options.clock ?? systemClock,
  };
}

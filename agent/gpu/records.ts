/**
 * What the parsers read out of nvidia-smi, before scope, health and session ownership are
 * applied. Numbers are finite or absent.
 */

/** One process on a GPU (or on one of its MIG instances). */
export interface ProcessRecord {
  pid: number;
  name: string;
  /** `C` compute, `G` graphics, `C+G`, or "" when not reported. */
  type: string;
  usedMemoryMib?: number;
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/** One MIG instance of a GPU. */
export interface MigRecord {
  /** The MIG device index within its GPU. */
  index: number;
  gpuInstanceId?: number;
  computeInstanceId?: number;
  /** Filled from `nvidia-smi -L` when known, e.g. `MIG-…` and `3g.40gb`. */
  uuid?: string;
  profile?: string;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
  volatileUncorrectable?: number;
}

/** The health-relevant facts of one GPU at one check. */
export interface HealthSignals {
  /** Volatile (since driver load) uncorrectable / double-bit ECC errors. */
  volatileUncorrectable?: number;
  retiredPagesPending?: boolean;
  remappedRowsPending?: boolean;
  remappedRowsFailure?: boolean;
  /** Active clock-event reasons that mean a sick or overheating GPU (e.g. `hw_slowdown`). */
  throttle: string[];
  /** `gpu_recovery_action` other than None (Reset, Reboot, Drain P2P, Drain and Reset). */
  recoveryAction?: string;
  /** `gpu_reset_status`: the driver asks for a reset (or a drain and reset). */
  resetRequired?: boolean;
  /** Pending memory repairs and unrepairable memory (`channel_repair_pending`, ...). */
  repairs: string[];
}

export interface GpuRecord {
  /** nvidia-smi index: the element's position in `-q -x`, or the `-i` index. */
  index: number;
  uuid: string;
  name: string;
  pciBusId?: string;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
  utilizationPct?: number;
  temperatureC?: number;
  powerW?: number;
  migEnabled: boolean;
  migDevices: MigRecord[];
  processes: ProcessRecord[];
  signals: HealthSignals;
}

/** A whole `nvidia-smi -q -x` (or `-q`) report. */
export interface SmiReport {
  driverVersion?: string;
  cudaVersion?: string;
  /** `<attached_gpus>`: may differ from `gpus.length` (trimmed output, a GPU that errored). */
  attachedGpus?: number;
  gpus: GpuRecord[];
}

/** One row of a `--query-gpu` sample. */
export interface UsageRecord {
  index?: number;
  uuid?: string;
  utilizationPct?: number;
  memoryUsedMib?: number;
  memoryTotalMib?: number;
  temperatureC?: number;
  powerW?: number;
}

/** One row of `--query-compute-apps`. */
export interface ComputeAppRecord {
  gpuUuid?: string;
  gpuBusId?: string;
  pid: number;
  name: string;
  usedMemoryMib?: number;
}

/** One line of `nvidia-smi -L`: a GPU, or a MIG device under the GPU above it. */
export interface ListedGpu {
  index: number;
  name: string;
  uuid?: string;
  mig: Array<{ index: number; profile: string; uuid?: string }>;
}

import type { GpuInfo } from '../../common/proto/types.js';

/** What the probe knows about this node's GPUs at one moment. */
export interface GpuState {
  gpus: GpuInfo[];
  /** A node-level failure (driver not loaded, version mismatch, hang), with the driver's words. */
  error?: string;
}

/** The agent's view of its GPUs. The agent calls `read()` at registration and for heartbeats. */
export interface GpuProbe {
  /** Never throws and never hangs past the probe's timeout; failures land in `error`. */
  read(): Promise<GpuState>;
  /** Stops any background sampling. */
  close(): void;
}

export interface GpuProbeOptions {
  /** The nvidia-smi binary; default `NSML_NVIDIA_SMI` or `nvidia-smi` on PATH. */
  nvidiaSmi?: string;
  /** Only these node-local GPU indices are used (`--gpus`); default all (or CUDA_VISIBLE_DEVICES). */
  gpus?: number[];
  /** Per nvidia-smi call; a call that takes longer is killed and reported. */
  timeoutMs?: number;
}

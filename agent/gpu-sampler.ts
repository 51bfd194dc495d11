import type { GpuInfo } from '../common/proto/types.js';
import type { GpuProbe, GpuState } from './gpu/types.js';
import { offeredGpus, readProbe } from './inventory.js';

/**
 * Reads the GPU probe for heartbeats without letting a slow probe delay them: one read at a
 * time; a heartbeat waits for it at most `timeoutMs` and otherwise goes without GPU data
 * ("unchanged"), while the read finishes in the background for the next one.
 */
export class GpuSampler {
  private inflight: Promise<GpuState> | undefined;
  private latest: GpuInfo[] = [];

  constructor(private readonly probe: GpuProbe, private readonly only: number[] | undefined) {}

  /** The offered GPUs of the latest completed reading (for CUDA device names). */
  get gpus(): GpuInfo[] {
    return this.latest;
  }

  /** Remembers a reading taken elsewhere (registration). */
  remember(gpus: GpuInfo[]): void {
    this.latest = gpus;
  }

  /** A fresh reading, or undefined when the probe did not answer within `timeoutMs`. */
  async sample(timeoutMs: number): Promise<GpuInfo[] | undefined> {
    this.inflight ??= readProbe(this.probe).then((s) => {
      this.latest = offeredGpus(s, this.only);
      return s;
    }).finally(() => {
      this.inflight = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const got = await Promise.race([this.inflight, late]);
    clearTimeout(timer);
    return got ? this.latest : undefined;
  }
}

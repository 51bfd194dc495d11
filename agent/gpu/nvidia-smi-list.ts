/**
 * Reads `nvidia-smi -L`:
 *   GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)
 *     MIG 3g.40gb     Device  0: (UUID: MIG-…)
 * Older drivers print MIG lines as `MIG 1g.5gb Device 0: (UUID: MIG-GPU-…/7/0)`.
 */
import type { ListedGpu } from './records.js';

const GPU_LINE = /^GPU\s+(\d+):\s*(.*?)\s*(?:\(UUID:\s*([^)]+)\))?\s*$/;
const MIG_LINE = /^MIG\s+(\S+)\s+Device\s+(\d+):\s*(?:\(UUID:\s*([^)]+)\))?/;

export function parseSmiList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? '', uuid: gpu[3]?.trim(), mig: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus[gpus.length - 1];
    if (mig && parent) parent.mig.push({ profile: mig[1]!, index: Number(mig[2]), uuid: mig[3]?.trim() });
  }
  return gpus;
}

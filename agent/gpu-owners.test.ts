import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../common/proto/types.js';
import { attributeGpuProcesses } from './gpu-owners.js';
import type { RankRunner } from './runner/rank-runner.js';

describe('attributeGpuProcesses', () => {
  const gpus: GpuInfo[] = [{ index: 0, processes: [{ pid: 101, name: 'python', usedMemoryMib: 10, session: '' }, { pid: 202, name: 'foreign', usedMemoryMib: 5, session: '' }] }];
  const rank = (session: string, pgid: number, finished = false) => ({ spec: { session }, pgid, finished }) as unknown as RankRunner;
  const groups: Record<number, number> = { 101: 100, 202: 200 };

  it('names the session whose process group holds the GPU process; others stay foreign', () => {
    const out = attributeGpuProcesses(gpus, [rank('a/scratch/1', 100)], (pid) => groups[pid]);
    expect(out[0]!.processes!.map((p) => p.session)).toEqual(['a/scratch/1', '']);
  });

  it('does not claim processes for a finished rank', () => {
    const out = attributeGpuProcesses(gpus, [rank('a/scratch/1', 100, true)], (pid) => groups[pid]);
    expect(out[0]!.processes!.map((p) => p.session)).toEqual(['', '']);
  });
});

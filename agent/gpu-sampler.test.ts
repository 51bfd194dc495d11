import { describe, expect, it } from 'vitest';
import type { GpuState } from './gpu/types.js';
import { GpuSampler } from './gpu-sampler.js';

describe('GpuSampler', () => {
  const state: GpuState = { gpus: [{ index: 0, uuid: 'a' }, { index: 1, uuid: 'b' }] };

  it('returns the offered GPUs of a prompt reading', async () => {
    const s = new GpuSampler({ read: async () => state, close: () => {} }, [1]);
    expect((await s.sample(1_000))?.map((g) => g.uuid)).toEqual(['b']);
    expect(s.gpus.map((g) => g.uuid)).toEqual(['b']);
  });

  it('does not wait past the timeout for a slow probe, and reads once at a time', async () => {
    let reads = 0;
    let release: (s: GpuState) => void = () => {};
    const s = new GpuSampler({ read: () => { reads += 1; return new Promise((r) => { release = r; }); }, close: () => {} }, undefined);
    expect(await s.sample(20)).toBeUndefined();
    expect(await s.sample(20)).toBeUndefined();
    expect(reads).toBe(1);
    release(state);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.gpus).toHaveLength(2);
  });
});

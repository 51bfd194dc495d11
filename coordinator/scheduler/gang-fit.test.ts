import { describe, expect, it } from 'vitest';
import { admissible, gangShape } from './gang-fit.js';
import { nodes } from './test-fixtures/harness.js';

const cluster = [...nodes(2, 8), ...nodes(1, 4).map((n) => ({ ...n, id: 'small' }))];

describe('admissible', () => {
  it.each([
    { gpus: 1, gpusPerNode: 0, ok: true },
    { gpus: 8, gpusPerNode: 0, ok: true },
    { gpus: 16, gpusPerNode: 0, ok: true },
    { gpus: 12, gpusPerNode: 4, ok: true },
    { gpus: 24, gpusPerNode: 0, ok: false, why: /3 node\(s\) with 8 GPUs each are needed; the cluster has 2/ },
    { gpus: 12, gpusPerNode: 0, ok: false, why: /cannot be split into equal parts of 8 per node \(ask for 6 GPUs per node/ },
    { gpus: 10, gpusPerNode: 3, ok: false, why: /equal parts of 3/ },
    { gpus: 16, gpusPerNode: 4, ok: false, why: /4 node\(s\) with 4 GPUs each are needed; the cluster has 3/ },
  ])('$gpus GPUs, $gpusPerNode per node → ok=$ok', ({ gpus, gpusPerNode, ok, why }) => {
    const a = admissible({ gpus, gpusPerNode, cpus: 1 }, cluster);
    expect(a.ok).toBe(ok);
    if (!a.ok) {
      expect(a.why).toMatch(why!);
      expect(a.largest).toBe(16);
    }
  });

  it('judges node shapes, not quarantine: a quarantined GPU comes back', () => {
    expect(admissible({ gpus: 8, gpusPerNode: 0, cpus: 1 }, nodes(1, 8, { unusableGpus: [3] })).ok).toBe(true);
  });

  it('rejects a request for more CPUs than any node has', () => {
    const a = admissible({ gpus: 1, gpusPerNode: 0, cpus: 128 }, nodes(2));
    expect(a).toMatchObject({ ok: false, largest: 0 });
  });

  it('says plainly that a cluster without GPUs runs only CPU sessions', () => {
    const cpuOnly = nodes(2, 0);
    expect(admissible({ gpus: 1, gpusPerNode: 0, cpus: 1 }, cpuOnly)).toMatchObject({ ok: false, largest: 0, why: expect.stringMatching(/no node of the cluster has a GPU/) });
    expect(admissible({ gpus: 0, gpusPerNode: 0, cpus: 1 }, cpuOnly).ok).toBe(true);
  });

  it('gangShape: one node when it fits, else whole nodes', () => {
    expect(gangShape({ gpus: 6, gpusPerNode: 0 }, nodes(2))).toEqual({ processes: 1, perNode: 6 });
    expect(gangShape({ gpus: 32, gpusPerNode: 0 }, nodes(2))).toEqual({ processes: 4, perNode: 8 });
    expect(gangShape({ gpus: 0, gpusPerNode: 0 }, nodes(2))).toEqual({ processes: 1, perNode: 0 });
  });
});

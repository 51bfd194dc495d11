import { describe, expect, it } from 'vitest';
import type { NodeView } from '../scheduler/types.js';
import { checkNodeResources } from './resource-fit.js';

const node = (id: string, cpus: number, memoryMib: number): NodeView => ({ id, gpus: [], unusableGpus: [], cpus, memoryMib, schedulable: true });
const cluster = [node('small', 8, 32_768), node('wide', 64, 16_384), node('big', 16, 131_072)];

describe('checkNodeResources', () => {
  it.each([
    ['nothing asked', 0, 0],
    ['the most memory of a node', 1, 131_072],
    ['the most CPUs of a node', 64, 0],
    ['CPUs and memory of one node', 16, 131_072],
  ])('accepts %s', (_what, cpus, memoryMib) => {
    expect(() => checkNodeResources({ cpus, memoryMib }, cluster)).not.toThrow();
  });

  it.each([
    ['more memory than any node', 1, 200_000, /200000 MiB of memory .*the largest request that fits is 131072 MiB/],
    ['more memory than the nodes with enough CPUs', 64, 32_768, /32768 MiB .*no node with 64 CPUs has more than 16384 MiB; the largest request that fits is 16384 MiB/],
    ['more CPUs than any node', 65, 0, /65 CPUs per process .*the largest request that fits is 64 CPUs/],
  ])('refuses %s with NSML_E_UNSATISFIABLE naming the largest that fits', (_what, cpus, memoryMib, message) => {
    expect(() => checkNodeResources({ cpus, memoryMib }, cluster)).toThrow(expect.objectContaining({ code: 'NSML_E_UNSATISFIABLE', message: expect.stringMatching(message) }));
  });

  it('does not limit by a node that reports 0 CPUs or 0 MiB (unknown), nor with no node at all', () => {
    expect(() => checkNodeResources({ cpus: 512, memoryMib: 1 << 30 }, [node('unknown', 0, 0)])).not.toThrow();
    expect(() => checkNodeResources({ cpus: 512, memoryMib: 1 << 30 }, [])).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { decideDefault } from './default-policy.js';
import { nodes, pend, reasonOf, run, snapshot } from './test-fixtures/harness.js';

const NOW = 1_000_000;

describe('wait reasons of sessions that wait for CPUs or memory', () => {
  it('a CPU-only session on a node whose CPUs are taken waits for CPUs, not GPUs', () => {
    const s = snapshot({
      nodes: nodes(1, 2, { cpus: 4 }),
      running: [run('busy', { n0: [] }, { cpus: 4, startedAtMs: NOW - 1000 })],
      pending: [pend('cpu-job', 0, { cpus: 2, submittedAtMs: NOW })],
    });
    const reason = reasonOf(decideDefault(s, NOW), 'cpu-job')!;
    expect(reason.kind).toBe('resources');
    expect(reason.message).toBe('waits for CPUs or memory, not GPUs: needs 2 CPUs per process and no GPU; the most free on a node that fits it is 0 CPUs, the rest held by 1 running session(s)');
    expect(reason.message).not.toMatch(/GPUs free/);
  });

  it('a GPU session whose GPUs are free but memory is not says memory', () => {
    const s = snapshot({
      nodes: nodes(1, 4, { memoryMib: 16_384 }),
      running: [run('hog', { n0: [0] }, { memoryMib: 12_288, startedAtMs: NOW - 1000 })],
      pending: [pend('big', 2, { memoryMib: 8192, cpus: 1, submittedAtMs: NOW })],
    });
    const reason = reasonOf(decideDefault(s, NOW), 'big')!;
    expect(reason.message).toMatch(/^waits for CPUs or memory, not GPUs: needs 1 CPU and 8 GiB of memory per process with 2 GPUs on one node; the most free on a node that fits it is \d+ CPUs and 4 GiB/);
  });

  it('a session that lacks GPUs is still explained by GPUs', () => {
    const s = snapshot({
      nodes: nodes(1, 1),
      running: [run('r', { n0: [0] }, { startedAtMs: NOW - 1000 })],
      pending: [pend('g', 1, { cpus: 1, submittedAtMs: NOW })],
    });
    expect(reasonOf(decideDefault(s, NOW), 'g')!.message).toMatch(/0 GPUs free/);
  });
});

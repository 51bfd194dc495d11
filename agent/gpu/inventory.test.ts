import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { takeInventory } from './inventory.js';
import type { SmiResult } from './smi-runner.js';
import { createScriptedSmiRunner, failed, ok } from './smi-runner-fake.js';
import { fixture } from './test-fixtures/fake-smi.js';
import { singleGpuXml } from './test-fixtures/slice.js';

const X8 = readFileSync(fixture('h100-x8.xml'), 'utf8');
const LIST8 = readFileSync(fixture('h100-x8.list.txt'), 'utf8');
const LOST = 'Unable to determine the device handle for GPU 0000:2A:00.0: GPU is lost. Reboot the system to recover this GPU\n';
const hang: SmiResult = { kind: 'timeout', message: 'nvidia-smi -q -x did not finish within 100 ms and was killed', stdout: '', stderr: '' };

/** Answers by command: `-q -x`, `-q -x -i N`, `-L`. */
function runner(answers: { full: SmiResult; list?: SmiResult; perGpu?: (index: number) => SmiResult }) {
  return createScriptedSmiRunner((args) => {
    if (args.includes('-L')) return answers.list ?? failed(255, '');
    const i = args.indexOf('-i');
    if (i >= 0) return answers.perGpu?.(Number(args[i + 1])) ?? failed(255, '');
    return answers.full;
  });
}

describe('takeInventory', () => {
  test.each<[string, SmiResult, { gpus: number; error?: RegExp; notice?: RegExp }]>([
    ['healthy 8-GPU node', ok(X8), { gpus: 8 }],
    ['no nvidia-smi', { kind: 'missing', message: 'nvidia-smi not found (no NVIDIA driver tools on this node)' }, { gpus: 0, notice: /not found/ }],
    ['no devices', failed(6, 'No devices were found\n'), { gpus: 0, notice: /No devices were found/ }],
    ['driver not loaded', failed(9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"), { gpus: 0, error: /couldn't communicate/ }],
    ['library mismatch', failed(18, 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 570.124\n'), { gpus: 0, error: /version mismatch NVML library version: 570.124/ }],
    ['not XML', ok('garbage'), { gpus: 0, error: /printed no XML report: garbage/ }],
    ['cannot spawn', { kind: 'spawn-error', message: 'cannot run nvidia-smi: EACCES' }, { gpus: 0, error: /EACCES/ }],
  ])('%s', async (_name, full, expected) => {
    const inventory = await takeInventory(runner({ full }), 100);
    expect(inventory.gpus).toHaveLength(expected.gpus);
    if (expected.error) expect(inventory.error).toMatch(expected.error);
    else expect(inventory.error).toBeUndefined();
    if (expected.notice) expect(inventory.notice).toMatch(expected.notice);
  });

  test('one lost GPU: the others are queried one by one and keep working', async () => {
    const scripted = runner({
      full: failed(15, LOST),
      list: ok(LIST8),
      perGpu: (i) => (i === 1 ? failed(15, LOST) : ok(singleGpuXml('h100-x8.xml', i))),
    });
    const inventory = await takeInventory(scripted, 100);
    expect(inventory.error).toBeUndefined();
    expect(inventory.gpus.map((g) => g.index)).toEqual([0, 2, 3, 4, 5, 6, 7]);
    expect(inventory.gpus[1]!.uuid).toBe('GPU-8f0e2c11-5a1d-4e77-9c3b-000000000022');
    expect(inventory.failures).toEqual([
      { index: 1, lost: true, uuid: 'GPU-8f0e1c11-5a1d-4e77-9c3b-000000000011', name: 'NVIDIA H100 80GB HBM3', message: LOST.trim() },
    ]);
  });

  test('a hang: GPUs that hang are reported, and after two hangs the rest are not tried', async () => {
    const scripted = runner({ full: hang, list: ok(LIST8), perGpu: (i) => (i >= 5 ? hang : ok(singleGpuXml('h100-x8.xml', i))) });
    const inventory = await takeInventory(scripted, 100);
    expect(inventory.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4]);
    expect(inventory.failures.map((f) => [f.index, f.lost])).toEqual([
      [5, false],
      [6, false],
      [7, false],
    ]);
    expect(inventory.failures[0]!.message).toMatch(/did not finish within 100 ms/);
    expect(inventory.failures[2]!.message).toMatch(/^not checked: nvidia-smi hung on other GPUs/);
    expect(scripted.calls.filter((c) => c.includes('-i'))).toHaveLength(7);
  });

  test('a hang with no way to list GPUs is a node error', async () => {
    const inventory = await takeInventory(runner({ full: hang, list: hang }), 100);
    expect(inventory.error).toMatch(/did not finish/);
    expect(inventory.gpus).toEqual([]);
  });

  test('without -L, the indices known from the last check are queried', async () => {
    const scripted = runner({ full: failed(15, LOST), list: hang, perGpu: (i) => ok(singleGpuXml('h100-x8.xml', i)) });
    const inventory = await takeInventory(scripted, 100, [0, 3]);
    expect(inventory.gpus.map((g) => g.index)).toEqual([0, 3]);
  });

  test('MIG: -L is read for instance UUIDs and profiles', async () => {
    const scripted = createScriptedSmiRunner((args) =>
      args.includes('-L') ? ok(readFileSync(fixture('mig-a100.list.txt'), 'utf8')) : ok(readFileSync(fixture('mig-a100.xml'), 'utf8')),
    );
    const inventory = await takeInventory(scripted, 100);
    expect(inventory.listed[0]!.mig.map((m) => m.profile)).toEqual(['2g.20gb', '1g.10gb']);
    expect(scripted.calls).toEqual([['-q', '-x'], ['-L']]);
  });
});

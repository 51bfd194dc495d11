import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createGpuProbe } from './index.js';
import type { SmiResult } from './smi-runner.js';
import { createScriptedSmiRunner, failed, ok } from './smi-runner-fake.js';
import { fixture } from './test-fixtures/fake-smi.js';
import type { GpuProbeOptions } from './types.js';

const X8 = readFileSync(fixture('h100-x8.xml'), 'utf8');
const SICK = readFileSync(fixture('v13-sick.xml'), 'utf8');
const DRIVER = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";

/** A probe without background loops whose nvidia-smi answers from `answer()` (changeable). */
function probeWith(answer: { current: (args: readonly string[]) => SmiResult }, options: GpuProbeOptions = {}) {
  const runner = createScriptedSmiRunner((args) => answer.current(args));
  const probe = createGpuProbe({ background: false, sampling: 'off', runner, sessionOf: () => '', env: {}, ...options });
  return { probe, runner };
}

describe('probe state', () => {
  test('GpuInfo of a healthy node: numbers, health, processes', async () => {
    const { probe } = probeWith({ current: () => ok(X8) }, { sessionOf: (pid) => (pid === 20000 ? 'alice/mnist/3' : '') });
    const state = await probe.read();
    expect(state.driverVersion).toBe('535.161.08');
    expect(state.gpus).toHaveLength(8);
    expect(state.gpus[0]).toEqual({
      index: 0,
      uuid: 'GPU-8f0e0c11-5a1d-4e77-9c3b-000000000000',
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalMib: 81559,
      memoryUsedMib: 70321,
      utilizationPct: 98,
      temperatureC: 30,
      powerW: 667.8,
      mig: '',
      health: 'ok',
      healthReason: '',
      processes: [{ pid: 20000, name: '/usr/bin/python3', usedMemoryMib: 69821, session: 'alice/mnist/3' }],
    });
    expect(state.gpus[1]!.processes![0]!.session).toBe('');
    probe.destroy();
  });

  test('a sick GPU is quarantined with its reasons; the healthy one is not', async () => {
    const { probe } = probeWith({ current: () => ok(SICK) });
    const [good, sick] = (await probe.read()).gpus;
    expect(good!.health).toBe('ok');
    expect(sick!.health).toBe('quarantined');
    for (const words of ['ECC errors: 3 (was 0)', 'row remapping failure', 'hardware thermal slowdown', 'recovery action: Reset', 'unrepairable memory']) {
      expect(sick!.healthReason).toContain(words);
    }
  });

  test('quarantine ends after the configured clean checks', async () => {
    const answer = { current: (_: readonly string[]) => ok(SICK) };
    const { probe } = probeWith(answer, { releaseAfterChecks: 2 });
    expect((await probe.read()).gpus[1]!.health).toBe('quarantined');
    answer.current = () => ok(SICK.replace(/Active<\/clocks_event_reason_hw/g, 'Not Active</clocks_event_reason_hw').replace(/>Yes</g, '>No<').replace('Reset</gpu_recovery', 'None</gpu_recovery'));
    expect((await probe.read()).gpus[1]!.health).toBe('quarantined');
    expect((await probe.read()).gpus[1]).toMatchObject({ health: 'ok', healthReason: '' });
  });

  test('a driver failure after a good check keeps the GPUs, unusable, with the driver words', async () => {
    const answer = { current: (_: readonly string[]) => ok(X8) };
    const { probe } = probeWith(answer);
    await probe.read();
    answer.current = () => failed(9, DRIVER, DRIVER);
    const state = await probe.read();
    expect(state.error).toBe(DRIVER.trim());
    expect(state.gpus).toHaveLength(8);
    expect(state.gpus.every((g) => g.health === 'lost' && g.healthReason === DRIVER.trim())).toBe(true);
  });

  test('a GPU that disappears from the report is lost', async () => {
    const answer = { current: (_: readonly string[]) => ok(X8) };
    const { probe } = probeWith(answer);
    await probe.read();
    answer.current = () => ok(X8.replace(/\t<gpu id="00000000:DB:00.0">[\s\S]*?<\/gpu>\n/, ''));
    const gpu7 = (await probe.read()).gpus[7]!;
    expect(gpu7).toMatchObject({ index: 7, health: 'lost', healthReason: 'GPU GPU-8f0e7c11-5a1d-4e77-9c3b-000000000077 is no longer reported by nvidia-smi' });
  });

  test.each([
    [{ gpus: [1, 3] }, [1, 3]],
    [{ env: { CUDA_VISIBLE_DEVICES: '2,GPU-8f0e5' } }, [2, 5]],
    [{ env: { CUDA_VISIBLE_DEVICES: '' } }, []],
    [{ gpus: [0], env: { CUDA_VISIBLE_DEVICES: '4' } }, [0]],
  ])('scope %j → GPUs %j', async (options, indices) => {
    const { probe } = probeWith({ current: () => ok(X8) }, options);
    expect((await probe.read()).gpus.map((g) => g.index)).toEqual(indices);
  });

  test('MIG instances are the units', async () => {
    const { probe } = probeWith({
      current: (args) => ok(readFileSync(fixture(args.includes('-L') ? 'mig-a100.list.txt' : 'mig-a100.xml'), 'utf8')),
    });
    const gpus = (await probe.read()).gpus;
    expect(gpus.map((g) => [g.index, g.mig, g.uuid, g.memoryTotalMib, g.memoryUsedMib, g.utilizationPct])).toEqual([
      [0, '2g.20gb', 'MIG-dddddddd-0000-0000-0000-000000000000', 19968, 9000, undefined],
      [1, '1g.10gb', 'MIG-dddddddd-0000-0000-0000-000000000001', 9856, 11, undefined],
      [2, '', 'GPU-cccccccc-0000-0000-0000-000000000001', 40960, 4, 0],
    ]);
    expect(gpus[0]!.processes!.map((p) => p.pid)).toEqual([7000]);
  });
});

describe('checkFree', () => {
  const apps = 'GPU-8f0e3c11-5a1d-4e77-9c3b-000000000033, 00000000:5D:00.0, 31337, 1200, /home/bob/miner --pool a,b\nGPU-8f0e4c11-5a1d-4e77-9c3b-000000000044, 00000000:9A:00.0, 555, 900, python\n';
  const answer = (args: readonly string[]) => (args.some((a) => a.startsWith('--query-compute-apps')) ? ok(apps) : ok(X8));

  test('reports foreign holders of the asked GPUs, not the session own processes', async () => {
    const sessionOf = (pid: number) => (pid === 555 ? 'alice/x/1' : '');
    const { probe } = probeWith({ current: answer }, { sessionOf, background: true, inventoryIntervalMs: 3_600_000 });
    await probe.read();
    const result = await probe.checkFree([3, 4]);
    expect(result).toEqual({ foreign: [{ index: 3, uuid: 'GPU-8f0e3c11-5a1d-4e77-9c3b-000000000033', pid: 31337, name: '/home/bob/miner --pool a,b', usedMemoryMib: 1200 }] });
    const gpu3 = (await probe.read()).gpus[3]!;
    expect(gpu3.processes).toEqual([{ pid: 31337, name: '/home/bob/miner --pool a,b', usedMemoryMib: 1200, session: '' }]);
    probe.destroy();
  });

  test('says when it cannot check', async () => {
    const { probe } = probeWith({ current: (args) => (args.some((a) => a.startsWith('--query-compute-apps')) ? failed(255, 'Failed to initialize NVML: Unknown Error\n') : ok(X8)) });
    await probe.read();
    expect(await probe.checkFree([0])).toEqual({ foreign: [], error: 'cannot list GPU processes: Failed to initialize NVML: Unknown Error' });
    expect((await probe.checkFree([9])).error).toBe("GPU index 9 is not among this node's GPUs");
  });
});

describe('options', () => {
  test.each([
    [{ timeoutMs: 0 }, /timeoutMs must be a positive number/],
    [{ gpus: [-1] }, /--gpus must list GPU indices/],
    [{ releaseAfterChecks: 0 }, /releaseAfterChecks/],
    [{ sampling: 'sometimes' as never }, /stream, spawn or off/],
  ])('%j is refused', (options, message) => {
    expect(() => createGpuProbe({ background: false, ...options })).toThrow(message);
  });
});

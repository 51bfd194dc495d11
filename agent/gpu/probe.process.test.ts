// Process-level tests: the probe runs the fake nvidia-smi program (test-fixtures/) as a real
// child process, with recorded outputs and failure modes (exit codes, both streams, hangs).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { createGpuProbe } from './index.js';
import { createFakeSmi, fixture, type FakeSmi, type Scenario } from './test-fixtures/fake-smi.js';
import { singleGpuXml } from './test-fixtures/slice.js';
import type { GpuProbeOptions, NodeGpuProbe, ProbeEvent } from './types.js';

const ROWS = JSON.parse(readFileSync(fixture('h100-x8.query-gpu.json'), 'utf8')) as Array<Record<string, string>>;
const X8: Scenario = {
  xml: { stdoutFile: fixture('h100-x8.xml') },
  list: { stdoutFile: fixture('h100-x8.list.txt') },
  gpus: ROWS.map((r) => ({ ...r, 'utilization.gpu': '55' })),
};
const DRIVER = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";
const LOST = 'Unable to determine the device handle for GPU 0000:2A:00.0: GPU is lost. Reboot the system to recover this GPU\n';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function setup(scenario: Scenario, options: GpuProbeOptions = {}): { fake: FakeSmi; probe: NodeGpuProbe; events: ProbeEvent[] } {
  const fake = createFakeSmi(scenario);
  const events: ProbeEvent[] = [];
  const probe = createGpuProbe({ nvidiaSmi: fake.binary, env: {}, sessionOf: () => '', onEvent: (e) => events.push(e), ...options });
  cleanups.push(() => fake.cleanup(), () => probe.destroy());
  return { fake, probe, events };
}

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, limitMs = 15_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function calls(fake: FakeSmi): string[] {
  try {
    return readFileSync(fake.log, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

describe('failure modes, with a real child process', () => {
  test('no nvidia-smi on PATH: a 0-GPU node, not an error', async () => {
    const probe = createGpuProbe({ env: { PATH: '/nonexistent' }, sampling: 'off' });
    cleanups.push(() => probe.destroy());
    const state = await probe.read();
    expect(state.gpus).toEqual([]);
    expect(state.error).toBeUndefined();
    expect(state.notice).toMatch(/nvidia-smi not found/);
  });

  test('NSML_NVIDIA_SMI names the binary', async () => {
    const fake = createFakeSmi(X8);
    cleanups.push(() => fake.cleanup());
    const probe = createGpuProbe({ env: { NSML_NVIDIA_SMI: fake.binary }, background: false });
    cleanups.push(() => probe.destroy());
    expect((await probe.read()).gpus).toHaveLength(8);
  });

  test('driver not loaded (exit 9, both streams): node error with the driver words', async () => {
    const { probe } = setup({ all: { stdout: DRIVER, stderr: DRIVER, exit: 9 } });
    const state = await probe.read();
    expect(state).toMatchObject({ gpus: [], error: DRIVER.trim() });
  });

  test('library/driver mismatch', async () => {
    const { probe } = setup({ all: { stdout: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 570.124\n', exit: 18 } });
    expect((await probe.read()).error).toBe('Failed to initialize NVML: Driver/library version mismatch NVML library version: 570.124');
  });

  test('one GPU lost while the others work', async () => {
    const { fake, probe } = setup({
      ...X8,
      xml: { stdout: LOST, exit: 15 },
      xmlByIndex: Object.fromEntries(
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [String(i), i === 1 ? { stdout: LOST, exit: 15 } : { stdout: singleGpuXml('h100-x8.xml', i) }]),
      ),
    }, { sampling: 'off' });
    const state = await probe.read();
    expect(state.error).toBeUndefined();
    expect(state.gpus.map((g) => g.health)).toEqual(['ok', 'lost', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(state.gpus[1]).toMatchObject({ uuid: 'GPU-8f0e1c11-5a1d-4e77-9c3b-000000000011', healthReason: LOST.trim() });
    expect(calls(fake)).toContain('-q -x -i 7');
  });

  test('a hung nvidia-smi is killed and reported, and read() comes back', async () => {
    const { fake, probe } = setup({ all: { hang: true } }, { timeoutMs: 400, sampling: 'off' });
    const state = await probe.read();
    expect(state.gpus).toEqual([]);
    expect(state.error).toMatch(/did not finish within 400 ms and was killed/);
    expect(calls(fake).slice(0, 2)).toEqual(['-q -x', '-L']);
    await until('the killed processes to exit', () => probe.getStatus().stuckCalls === 0);
  });
});

describe('sampling, with a real child process', () => {
  test('stream: one long-running -lms process feeds usage newer than the inventory', async () => {
    const { fake, probe } = setup(X8, { usageIntervalMs: 50, inventoryIntervalMs: 3_600_000 });
    expect((await probe.read()).gpus[0]!.utilizationPct).toBe(98);
    await until('a streamed sample', async () => (await probe.read()).gpus[0]!.utilizationPct === 55);
    expect(calls(fake).filter((c) => c.includes('-lms 50'))).toHaveLength(1);
    expect(probe.getStatus().sampler).toMatchObject({ strategy: 'stream', state: 'running', restarts: 0 });
  });

  test('stream: restarted when it dies', async () => {
    const { probe, events } = setup({ ...X8, loop: { dieAfterRounds: 2, exit: 255 } }, { usageIntervalMs: 30, inventoryIntervalMs: 3_600_000 });
    await probe.read();
    await until('a restart', () => (probe.getStatus().sampler?.restarts ?? 0) >= 1);
    expect(events.some((e) => e.type === 'sampler' && /exited \(code 255\)/.test(e.message))).toBe(true);
  });

  test('stream: killed when it stops printing', async () => {
    const { probe, events } = setup({ ...X8, loop: { stallAfterRounds: 1 } }, { usageIntervalMs: 30, timeoutMs: 1500, inventoryIntervalMs: 3_600_000 });
    await probe.read();
    await until('a stall', () => events.find((e) => e.type === 'sampler' && e.kind === 'stalled'));
    await until('a restart after the kill', () => (probe.getStatus().sampler?.restarts ?? 0) >= 1);
  });

  test('a field this driver rejects is dropped, and sampling goes on', async () => {
    const { fake, probe } = setup({ ...X8, invalidFields: ['power.draw'] }, { sampling: 'spawn', usageIntervalMs: 30, inventoryIntervalMs: 3_600_000 });
    await probe.read();
    await until('a sample without power.draw', async () => (await probe.read()).gpus[0]!.utilizationPct === 55);
    const queries = calls(fake).filter((c) => c.startsWith('--query-gpu'));
    expect(queries[0]).toContain('power.draw');
    expect(queries[queries.length - 1]).not.toContain('power.draw');
  });

  test('spawn: one process per sample; a hung sample is killed', async () => {
    const { probe, events } = setup({ ...X8, queryGpu: { hang: true } }, { sampling: 'spawn', usageIntervalMs: 30, timeoutMs: 1500, inventoryIntervalMs: 3_600_000 });
    await probe.read();
    await until('a failed sample', () => events.find((e) => e.type === 'sampler' && e.kind === 'timeout'));
    expect(probe.getStatus().sampler?.failures).toBeGreaterThan(0);
  });
});

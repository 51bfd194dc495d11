import { afterEach, describe, expect, test } from 'vitest';
import { createFakeSmi, fixture, type FakeSmi } from '../../agent/gpu/test-fixtures/fake-smi.js';
import { captureIo } from '../io.js';
import { agentGpus } from './agent-gpus.js';

const fakes: FakeSmi[] = [];
afterEach(() => fakes.splice(0).forEach((f) => f.cleanup()));

function fake(xml: string, list?: string): FakeSmi {
  const f = createFakeSmi({ xml: { stdoutFile: fixture(xml) }, list: list ? { stdoutFile: fixture(list) } : undefined });
  fakes.push(f);
  return f;
}

describe('nsml agent gpus', () => {
  test('prints a table of the GPUs, then health reasons and processes', async () => {
    const io = captureIo();
    expect(await agentGpus(['--nvidia-smi', fake('v13-sick.xml').binary], io)).toBe(0);
    const out = io.stdout();
    expect(out).toMatch(/^driver 590\.44\.01, CUDA 13\.1\n/);
    expect(out).toMatch(/INDEX\s+UUID\s+NAME\s+MEMORY\s+UTIL\s+TEMP\s+POWER\s+MIG\s+HEALTH\s+PROCS/);
    expect(out).toMatch(/0\s+GPU-bbbbbbbb-0000-0000-0000-000000000000\s+NVIDIA H100 80GB HBM3\s+40110\/81559 MiB\s+97%\s+61 C\s+612\.4 W\s+-\s+ok\s+1/);
    expect(out).toMatch(/1\s+GPU-bbbbbbbb-0000-0000-0000-000000000001 .* 0\/81559 MiB\s+0%\s+94 C\s+-\s+-\s+quarantined\s+0/);
    expect(out).toContain('GPU 1 quarantined: volatile uncorrectable (double-bit) ECC errors: 3 (was 0)');
    expect(out).toMatch(/GPU 0 pid 4242 (foreign|session \S+) 40000 MiB python train\.py --lr 0\.1, --tag "a,b"/);
  });

  test('--json prints the probe state', async () => {
    const io = captureIo();
    expect(await agentGpus(['--json', '--nvidia-smi', fake('mig-a100.xml', 'mig-a100.list.txt').binary], io)).toBe(0);
    const state = JSON.parse(io.stdout()) as { gpus: Array<{ index: number; mig: string; uuid: string; health: string }> };
    expect(state.gpus.map((g) => [g.index, g.mig, g.uuid, g.health])).toEqual([
      [0, '2g.20gb', 'MIG-dddddddd-0000-0000-0000-000000000000', 'ok'],
      [1, '1g.10gb', 'MIG-dddddddd-0000-0000-0000-000000000001', 'ok'],
      [2, '', 'GPU-cccccccc-0000-0000-0000-000000000001', 'ok'],
    ]);
  });

  test('NSML_NVIDIA_SMI is used when --nvidia-smi is not given', async () => {
    const io = captureIo({ env: { NSML_NVIDIA_SMI: fake('v9-double-bit.xml').binary } });
    expect(await agentGpus([], io)).toBe(0);
    expect(io.stdout()).toContain('Tesla P100-PCIE-16GB');
    expect(io.stdout()).toContain('GPU 0 quarantined: volatile uncorrectable (double-bit) ECC errors: 2 (was 0); retired pages pending');
  });

  test.each([
    [{ PATH: '/nonexistent' }, [], /^no NVIDIA GPU found: nvidia-smi not found/],
    [{}, ['--nvidia-smi', '/nonexistent/nvidia-smi'], /^no NVIDIA GPU found: \/nonexistent\/nvidia-smi not found/],
  ])('no GPU (env %j, args %j): exit 0 with the reason', async (env, args, message) => {
    const io = captureIo({ env });
    expect(await agentGpus(args, io)).toBe(0);
    expect(io.stdout()).toMatch(message);
  });

  test('a driver failure is printed as the reason', async () => {
    const f = createFakeSmi({ all: { stderr: 'Failed to initialize NVML: Driver/library version mismatch\n', exit: 18 } });
    fakes.push(f);
    const io = captureIo();
    expect(await agentGpus(['--nvidia-smi', f.binary], io)).toBe(0);
    expect(io.stdout()).toBe('no NVIDIA GPU found: Failed to initialize NVML: Driver/library version mismatch\n');
  });

  test('--help prints usage; an unknown flag is a usage error', async () => {
    const io = captureIo();
    expect(await agentGpus(['--help'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^Usage: nsml agent gpus/);
    await expect(agentGpus(['--bogus'], captureIo())).rejects.toMatchObject({ code: 'NSML_E_USAGE' });
  });
});

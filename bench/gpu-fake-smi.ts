// Shared by the gpu-* benchmarks: an executable that plays the fake nvidia-smi
// (agent/gpu/test-fixtures/fake-nvidia-smi.mjs) with the committed 8-GPU H100 fixture, and
// readers of process CPU time from /proc (Linux).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../common/proto/load.js';

export interface BenchSmi {
  binary: string;
  cleanup(): void;
}

export function fixturePath(name: string): string {
  return join(repoRoot(), 'agent', 'gpu', 'test-fixtures', name);
}

/** The fake nvidia-smi playing an 8-GPU node. */
export function createBenchSmi(): BenchSmi {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-bench-smi-'));
  const scenario = join(dir, 'scenario.json');
  writeFileSync(
    scenario,
    JSON.stringify({
      xml: { stdoutFile: fixturePath('h100-x8.xml') },
      list: { stdoutFile: fixturePath('h100-x8.list.txt') },
      gpus: JSON.parse(readFileSync(fixturePath('h100-x8.query-gpu.json'), 'utf8')) as unknown,
      computeApps: [],
    }),
  );
  const binary = join(dir, 'nvidia-smi');
  const program = join(repoRoot(), 'agent', 'gpu', 'test-fixtures', 'fake-nvidia-smi.mjs');
  writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" "${program}" "${scenario}" "$@"\n`);
  chmodSync(binary, 0o755);
  return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms of waited-for children of this process (cutime + cstime). */
export function childrenCpuMs(): number {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** CPU ms of a running process (utime + stime); 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const fields = statFields(String(pid));
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Fields of /proc/<pid>/stat after the command name (field 3 is index 0). */
function statFields(pid: string): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** This process's own CPU ms (user + system). */
export function selfCpuMs(since?: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(since);
  return (usage.user + usage.system) / 1000;
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

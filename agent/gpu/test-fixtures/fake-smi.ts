/**
 * Test helper: writes a scenario for fake-nvidia-smi.mjs and an executable wrapper that plays
 * it, so the probe runs a real child process exactly as it would run nvidia-smi.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = dirname(fileURLToPath(import.meta.url));
export const FAKE_PROGRAM = join(FIXTURES, 'fake-nvidia-smi.mjs');

export interface Behaviour {
  stdout?: string;
  stdoutFile?: string;
  stderr?: string;
  exit?: number;
  hang?: boolean;
  delayMs?: number;
}

export interface Scenario {
  all?: Behaviour;
  xml?: Behaviour;
  xmlByIndex?: Record<string, Behaviour>;
  list?: Behaviour;
  gpus?: Array<Record<string, string>>;
  invalidFields?: string[];
  queryGpu?: Behaviour;
  loop?: { dieAfterRounds?: number; stallAfterRounds?: number; exit?: number; stderr?: string };
  computeApps?: Array<Record<string, string>>;
  computeAppsBehavior?: Behaviour;
  log?: string;
}

export interface FakeSmi {
  /** The executable to pass as nvidia-smi. */
  binary: string;
  dir: string;
  log: string;
  /** Rewrites the scenario; the next invocation plays it. */
  set(scenario: Scenario): void;
  cleanup(): void;
}

export function createFakeSmi(scenario: Scenario): FakeSmi {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-fake-smi-'));
  const scenarioPath = join(dir, 'scenario.json');
  const binary = join(dir, 'nvidia-smi');
  const log = join(dir, 'calls.log');
  writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_PROGRAM}" "${scenarioPath}" "$@"\n`);
  chmodSync(binary, 0o755);
  const set = (next: Scenario) => writeFileSync(scenarioPath, JSON.stringify({ log, ...next }));
  set(scenario);
  return { binary, dir, log, set, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fixture file of this folder. */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

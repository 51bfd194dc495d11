/** An in-memory SmiRunner for unit tests: answers each call from a function of its arguments. */
import type { SmiResult, SmiRunner } from './smi-runner.js';

export interface ScriptedSmiRunner extends SmiRunner {
  calls: string[][];
}

export function createScriptedSmiRunner(answer: (args: readonly string[]) => SmiResult): ScriptedSmiRunner {
  const calls: string[][] = [];
  return {
    calls,
    run: async (args) => {
      calls.push([...args]);
      return answer(args);
    },
  };
}

/** A successful run printing `stdout`. */
export function ok(stdout: string): SmiResult {
  return { kind: 'exited', code: 0, signal: null, stdout, stderr: '' };
}

/** A failed run. */
export function failed(code: number, stdout: string, stderr = ''): SmiResult {
  return { kind: 'exited', code, signal: null, stdout, stderr };
}

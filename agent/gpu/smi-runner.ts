/**
 * Runs nvidia-smi. Every call has a timeout; a call that overruns is killed and answered at once
 * as `timeout`, never awaited (a hung driver can leave the process unkillable in the kernel).
 * While earlier killed calls are still stuck, no new one is started, so hangs cannot pile up.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type SmiResult =
  | { kind: 'exited'; code: number | null; signal: string | null; stdout: string; stderr: string }
  | { kind: 'missing'; message: string }
  | { kind: 'timeout'; message: string; stdout: string; stderr: string }
  | { kind: 'spawn-error'; message: string };

/** The one member the probe needs to run a command; an in-memory fake stands in for tests. */
export interface SmiRunner {
  run(args: readonly string[], timeoutMs: number): Promise<SmiResult>;
}

export interface ProcessSmiRunnerOptions {
  binary: string;
  env?: NodeJS.ProcessEnv;
  /** Output beyond this is a failure (a sane `-q -x` of 16 GPUs is well under 2 MiB). */
  maxOutputBytes?: number;
  /** Killed calls still alive beyond which no new call starts. */
  maxStuck?: number;
  signal?: AbortSignal;
}

export interface ProcessSmiRunner extends SmiRunner {
  /** Killed calls whose process has not exited yet. */
  stuckCount(): number;
}

export function createProcessSmiRunner(options: ProcessSmiRunnerOptions): ProcessSmiRunner {
  const maxOutput = options.maxOutputBytes ?? 32 * 1024 * 1024;
  const maxStuck = options.maxStuck ?? 2;
  const stuck = new Set<ChildProcess>();
  const run = (args: readonly string[], timeoutMs: number): Promise<SmiResult> => {
    if (stuck.size >= maxStuck) {
      return Promise.resolve({
        kind: 'timeout',
        message: `${stuck.size} earlier ${options.binary} calls are still hung after being killed; not starting another until they exit (check the driver: dmesg for Xid errors)`,
        stdout: '',
        stderr: '',
      });
    }
    return runOnce(options, args, timeoutMs, maxOutput, stuck);
  };
  return { run, stuckCount: () => stuck.size };
}

function runOnce(
  options: ProcessSmiRunnerOptions,
  args: readonly string[],
  timeoutMs: number,
  maxOutput: number,
  stuck: Set<ChildProcess>,
): Promise<SmiResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SmiResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    let child: ChildProcess;
    try {
      child = spawn(options.binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    } catch (err) {
      finish(spawnFailure(options.binary, err));
      return;
    }
    const out = collect(child, maxOutput, () => kill(`printed more than ${maxOutput} bytes`));
    const kill = (why: string) => {
      if (child.exitCode === null && child.signalCode === null) {
        stuck.add(child);
        child.kill('SIGKILL');
      }
      finish({ kind: 'timeout', message: `${options.binary} ${args.join(' ')} ${why} and was killed`, stdout: out.stdout(), stderr: out.stderr() });
    };
    const timer = setTimeout(() => kill(`did not finish within ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => kill('was cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => finish(spawnFailure(options.binary, err)));
    child.on('close', (code, signal) => {
      stuck.delete(child);
      finish({ kind: 'exited', code, signal, stdout: out.stdout(), stderr: out.stderr() });
    });
  });
}

function collect(child: ChildProcess, maxOutput: number, onOverflow: () => void) {
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  let total = 0;
  const add = (list: Buffer[]) => (chunk: Buffer) => {
    total += chunk.length;
    if (total > maxOutput) return onOverflow();
    list.push(chunk);
  };
  child.stdout?.on('data', add(chunks.out));
  child.stderr?.on('data', add(chunks.err));
  return {
    stdout: () => Buffer.concat(chunks.out).toString('utf8'),
    stderr: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}

function spawnFailure(binary: string, err: unknown): SmiResult {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return { kind: 'missing', message: `${binary} not found (no NVIDIA driver tools on this node)` };
  const text = err instanceof Error ? err.message : String(err);
  return { kind: 'spawn-error', message: `cannot run ${binary}: ${text}` };
}

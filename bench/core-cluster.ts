// A real local cluster for the core benchmarks: one coordinator and N agents, each started
// through the built `nsml` CLI in its own process, on loopback, with every byte of state in a
// temp directory that `close()` removes. Also the figures helpers the core benches share.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinatorClient } from '../cli/client.js';
import { sleep } from '../common/sleep.js';

/** The repository root (this file runs as dist/bench/core-cluster.js). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NSML_BIN = join(ROOT, 'bin', 'nsml.js');
export const BENCH_USER = 'bench';

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export { sleep };

/** One line naming the machine the figures come from. */
export function machine(): string {
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return `machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, ${(python.stdout || python.stderr).trim()}, load average ${load}`;
}

/** Prints rows of [label, figure, target] as an aligned table. */
export function printTable(rows: Array<[string, string, string?]>): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [label, value, target] of rows) console.log(`  ${label.padEnd(w0)}  ${value.padStart(w1)}${target ? `   target ${target}` : ''}`);
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** From spawning the process to its exit. */
  ms: number;
}

export interface BenchClusterOptions {
  /** Default 1. */
  agents?: number;
  /** Put first on the agents' PATH (where they find `python3`). */
  agentPath?: string;
  /** Past this, the cluster is closed and the process exits 1, so that a broken cluster never hangs a bench; default 300. */
  limitS?: number;
}

export class BenchCluster {
  readonly home: string;
  address = '';
  /** The bench user's token (the coordinator's first admin, from its `<data>/admin-token`). */
  token = '';
  private readonly children: ChildProcess[] = [];
  private watchdog: NodeJS.Timeout | undefined;

  private constructor(readonly dir: string) {
    this.home = join(dir, 'home');
  }

  /** Starts the coordinator and the agents (node1, node2, ...) and waits until every node is ready. */
  static async start(options: BenchClusterOptions = {}): Promise<BenchCluster> {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const agents = options.agents ?? 1;
    const cluster = new BenchCluster(mkdtempSync(join(tmpdir(), 'nsml-bench-core-')));
    cluster.watchdog = setTimeout(() => {
      console.error(`gave up after ${options.limitS ?? 300} s; NSML_BENCH_VERBOSE=1 shows the cluster's logs`);
      void cluster.close().finally(() => process.exit(1));
    }, (options.limitS ?? 300) * 1000);
    try {
      await cluster.startCoordinator();
      const env = options.agentPath ? { PATH: `${options.agentPath}:${process.env.PATH ?? ''}` } : {};
      for (let i = 1; i <= agents; i++) {
        cluster.spawnNsml(['agent', '--coordinator', cluster.address, '--data', cluster.agentDir(`node${i}`), '--name', `node${i}`, '--gpus', 'none'], env);
      }
      const client = cluster.client();
      try {
        await waitUntil(async () => (await client.listNodes()).filter((n) => n.state === 'ready').length === agents, 'the agents to register');
      } finally {
        client.close();
      }
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, NSML_HOME: this.home, NSML_COORDINATOR: this.address, NSML_TOKEN: this.token, NSML_LOG_LEVEL: 'warn' };
  }

  /** The data folder of agent `node` (its session folders are under `sessions/`). */
  agentDir(node: string): string {
    return join(this.dir, node);
  }

  client(): CoordinatorClient {
    return new CoordinatorClient({ address: this.address, user: BENCH_USER, env: this.env() });
  }

  /** Runs `nsml ARGS` to its exit, timed from spawn to exit. */
  nsml(args: string[], cwd: string): Promise<CliRun> {
    const began = performance.now();
    const child = spawn(process.execPath, [NSML_BIN, ...args], { cwd, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr, ms: performance.now() - began }));
    });
  }

  /** Stops the agents, then the coordinator; kills whatever still runs from the temp dir; removes it. */
  async close(): Promise<void> {
    clearTimeout(this.watchdog);
    for (const child of [...this.children].reverse()) await stopChild(child);
    killLeftovers(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startCoordinator(): Promise<void> {
    const data = join(this.dir, 'coordinator');
    const info = join(data, 'coordinator.json');
    const child = this.spawnNsml(['coordinator', '--port', '0', '--data', data, '--admins', BENCH_USER]);
    await waitUntil(() => existsSync(info) || child.exitCode !== null, 'the coordinator to listen');
    if (!existsSync(info)) throw new Error(`the coordinator exited with code ${child.exitCode}`);
    this.address = (JSON.parse(readFileSync(info, 'utf8')) as { address: string }).address;
    this.token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  }

  private spawnNsml(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    // NSML_BENCH_CPU_PROF=DIR: the coordinator and agents write V8 CPU profiles there when they exit.
    const prof = process.env.NSML_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NSML_BENCH_CPU_PROF}`, `--cpu-prof-name=${args[0]}-${Date.now()}.cpuprofile`] : [];
    const child = spawn(process.execPath, [...prof, NSML_BIN, ...args], { cwd: this.dir, env: { ...this.env(), ...env }, stdio: ['ignore', 'ignore', process.env.NSML_BENCH_VERBOSE ? 'inherit' : 'ignore'] });
    this.children.push(child);
    return child;
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Session supervisors and user processes outlive the agent by design: kill those run from `dir`, by pid. */
function killLeftovers(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd.startsWith(dir) || readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone, or not ours
    }
  }
}

/** Writes files (path → content) under `root`. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

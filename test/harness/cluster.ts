import { execa, execaSync, type ResultPromise } from 'execa';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the built CLI that every end-to-end test drives. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NSML_BIN = join(ROOT, 'bin', 'nsml.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ClusterOptions {
  agents?: number;
  heartbeatTimeout?: string;
  /** GPUs each agent offers (`--gpus 0..N-1` of a fake 8-GPU nvidia-smi); default none. */
  gpusPerAgent?: number;
  /** More `nsml agent` flags for every agent, e.g. ['--idle-window', '1s']. */
  agentArgs?: string[];
  /** More `nsml coordinator` flags, e.g. ['--gc-interval', '0']. */
  coordinatorArgs?: string[];
  /** Called with the cluster's folder before anything starts (e.g. to mount a small tmpfs in it). */
  prepare?: (dir: string) => void;
  /** More environment for every process the cluster starts and every `nsml` it runs, e.g. { NSML_CA: FILE }. */
  env?: Record<string, string>;
}

/**
 * A real local cluster for end-to-end tests: one coordinator process and N agent processes,
 * started through the built `nsml` CLI, on loopback, with all state in a temp directory.
 */
export class TestCluster {
  readonly dir: string;
  readonly home: string;
  address = '';
  private coordinator: ResultPromise | undefined;
  private readonly agents = new Map<string, ResultPromise>();
  private gpuArgs: string[] = [];
  private agentArgs: string[] = [];
  private coordinatorArgs: string[] = [];
  /** Test agents run as root here; their sessions run as root too (the on-node security tests pass --isolation users). */
  private agentEnv: Record<string, string> = { NSML_AGENT_ISOLATION: 'none' };
  private extraEnv: Record<string, string> = {};
  private readonly agentStderrs = new Map<string, Buffer[]>();
  /** The token of `e2e`, the coordinator's first admin (its `<data>/admin-token`): what `nsml` acts as by default. */
  adminToken = '';
  private readonly userTokens = new Map<string, string>();

  private constructor(dir: string) {
    this.dir = dir;
    this.home = join(dir, 'home');
  }

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      throw new Error('dist/ is missing: run `npm run build` before the end-to-end tests');
    }
    const cluster = new TestCluster(mkdtempSync(join(tmpdir(), 'nsml-e2e-')));
    try {
      if (options.gpusPerAgent) cluster.useFakeGpus(options.gpusPerAgent);
      cluster.agentArgs = options.agentArgs ?? [];
      cluster.coordinatorArgs = options.coordinatorArgs ?? [];
      cluster.extraEnv = options.env ?? {};
      options.prepare?.(cluster.dir);
      await cluster.startCoordinator(options.heartbeatTimeout ?? '3s');
      for (let i = 0; i < (options.agents ?? 2); i += 1) await cluster.startAgent(`node${i + 1}`);
      await cluster.waitFor(async () => (await cluster.nodes()).filter((n) => n.state === 'ready').length === (options.agents ?? 2), 'agents to register');
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { NSML_HOME: this.home, NSML_COORDINATOR: this.address, NSML_TOKEN: this.adminToken, NSML_LOG_LEVEL: 'warn', ...this.extraEnv, ...extra };
  }

  /**
   * The env overrides that make `nsml` act as `user` (`cluster.nsml(args, { env: cluster.asUser('bob') })`):
   * the user is added on first use (`nsml user add`, as the admin) and their token kept.
   */
  asUser(user: string, admin = false): Record<string, string> {
    if (user === 'e2e') return { NSML_TOKEN: this.adminToken };
    const key = `${user}${admin ? ' (admin)' : ''}`;
    let token = this.userTokens.get(key);
    if (!token) {
      const r = execaSync(process.execPath, [NSML_BIN, 'user', 'add', user, ...(admin ? ['--admin'] : []), '--json'], { env: this.env(), reject: false });
      if (r.exitCode !== 0) throw new Error(`nsml user add ${user} exited ${r.exitCode}: ${String(r.stderr)}`);
      token = (JSON.parse(String(r.stdout)) as { token: string }).token;
      this.userTokens.set(key, token);
    }
    return { NSML_TOKEN: token };
  }

  /** Runs `nsml ARGS` and returns its exit code and output; never throws on a non-zero exit. */
  async nsml(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    const r = await execa(process.execPath, [NSML_BIN, ...args], {
      cwd: options.cwd ?? this.dir,
      env: this.env(options.env),
      reject: false,
      timeout: options.timeoutMs ?? 60_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  async nsmlJson<T>(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<T> {
    const r = await this.nsml([...args, '--json'], options);
    if (r.exitCode !== 0) throw new Error(`nsml ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  async nodes(): Promise<Array<{ id: string; state: string }>> {
    const r = await this.nsml(['node', 'ls', '--json']);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as Array<{ id: string; state: string }>) : [];
  }

  async startCoordinator(heartbeatTimeout: string): Promise<void> {
    const data = join(this.dir, 'coordinator');
    const info = join(data, 'coordinator.json');
    rmSync(info, { force: true });
    const port = this.address ? this.address.split(':')[1]! : '0';
    const admins = this.coordinatorArgs.includes('--admins') ? [] : ['--admins', 'e2e'];
    this.coordinator = this.spawn(['coordinator', '--port', port, '--data', data, '--heartbeat-timeout', heartbeatTimeout, ...admins, ...this.coordinatorArgs], 'coordinator');
    await this.waitFor(() => existsSync(info), 'the coordinator to listen');
    this.address = (JSON.parse(readFileSync(info, 'utf8')) as { address: string }).address;
    this.adminToken = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  }

  async startAgent(name: string): Promise<void> {
    const args = ['agent', '--coordinator', this.address, '--data', join(this.dir, name), '--name', name, ...this.gpuArgs, ...this.agentArgs];
    const child = this.spawn(args, name, this.agentEnv);
    this.agents.set(name, child);
  }

  /**
   * Starts one more agent process, keyed `label` (for killAgent, agentStderr, agentExitCode), as
   * node `name` with its data in `data` and more flags; its stderr is kept.
   */
  async startAgentAt(label: string, name: string, data: string, args: string[] = []): Promise<void> {
    const child = this.spawn(['agent', '--coordinator', this.address, '--data', data, '--name', name, ...this.gpuArgs, ...this.agentArgs, ...args], label, this.agentEnv);
    const kept: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => kept.push(d));
    this.agentStderrs.set(label, kept);
    this.agents.set(label, child);
  }

  /** What an agent started with `startAgentAt` wrote to stderr so far. */
  agentStderr(label: string): string {
    return Buffer.concat(this.agentStderrs.get(label) ?? []).toString();
  }

  /** The exit code of an agent process; null while it runs. */
  agentExitCode(label: string): number | null {
    return this.agents.get(label)?.exitCode ?? null;
  }

  /** kill -9 of the coordinator; its sessions keep running on the agents. */
  async killCoordinator(): Promise<void> {
    await killHard(this.coordinator);
    this.coordinator = undefined;
  }

  /** kill -9 of one agent; its user processes are left as they are. */
  async killAgent(name: string): Promise<void> {
    await killHard(this.agents.get(name));
    this.agents.delete(name);
  }

  /** SIGTERM of one agent (as `systemctl restart` does), waiting for it to exit; its sessions keep running. */
  async termAgent(name: string): Promise<void> {
    await killGently(this.agents.get(name));
    this.agents.delete(name);
  }

  async waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  async destroy(): Promise<void> {
    for (const child of this.agents.values()) await killGently(child);
    this.agents.clear();
    await killGently(this.coordinator);
    this.coordinator = undefined;
    // Session processes left behind by a killed agent are in their own process groups.
    await execa('pkill', ['-9', '-f', this.dir], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Agents see an 8-GPU H100 node through the fake nvidia-smi of the GPU probe's tests (with no
   * foreign processes) and offer the first `count` GPUs.
   */
  private useFakeGpus(count: number): void {
    const fixtures = join(ROOT, 'agent', 'gpu', 'test-fixtures');
    const xml = readFileSync(join(fixtures, 'h100-x8.xml'), 'utf8').replace(/<processes>[\s\S]*?<\/processes>/g, '<processes>\n\t\t</processes>');
    const rows = (JSON.parse(readFileSync(join(fixtures, 'h100-x8.query-gpu.json'), 'utf8')) as Array<Record<string, string>>)
      .map((row) => ({ ...row, 'utilization.gpu': '0', 'memory.used': '0' }));
    const xmlPath = join(this.dir, 'fake-gpus.xml');
    const scenario = join(this.dir, 'fake-smi.json');
    const binary = join(this.dir, 'nvidia-smi');
    writeFileSync(xmlPath, xml);
    writeFileSync(scenario, JSON.stringify({ xml: { stdoutFile: xmlPath }, list: { stdoutFile: join(fixtures, 'h100-x8.list.txt') }, gpus: rows, computeApps: [] }));
    writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" "${join(fixtures, 'fake-nvidia-smi.mjs')}" "${scenario}" "$@"\n`);
    chmodSync(binary, 0o755);
    this.agentEnv = { ...this.agentEnv, NSML_NVIDIA_SMI: binary };
    this.gpuArgs = ['--gpus', Array.from({ length: count }, (_, i) => i).join(',')];
  }

  private spawn(args: string[], label: string, extraEnv: Record<string, string> = {}): ResultPromise {
    const child = execa(process.execPath, [NSML_BIN, ...args], {
      cwd: this.dir,
      env: this.env(extraEnv),
      reject: false,
      stdout: ['pipe'],
      stderr: ['pipe'],
      buffer: false,
    });
    if (process.env.NSML_E2E_VERBOSE) {
      child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${label}] ${d.toString()}`));
    } else {
      child.stderr?.resume();
    }
    child.stdout?.resume();
    return child;
  }
}

async function killHard(child: ResultPromise | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGKILL');
  await child;
}

async function killGently(child: ResultPromise | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await child;
  clearTimeout(timer);
}

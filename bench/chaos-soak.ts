// Chaos soak: a real cluster (one coordinator, N agents, each its own process) keeps `--sessions`
// counting sessions running for `--minutes` while, every 20–40 s, a random agent (kill -9 or
// SIGTERM) or the coordinator (kill -9) is killed and started again 0.2–1 s later. Each session
// runs test/chaos/counting-train.py: step i prints `line i` and reports train/loss at step i.
// At the end it counts, per session, the lines and points stored against those produced, and
// prints lost and duplicated log lines, metric points and sessions (target: 0 of each) and the
// recovery time after each kill (until the killed part is back and every node is ready).
//
//   npm run build && node dist/bench/chaos-soak.js [--minutes 10] [--sessions 20] [--agents 10] [--seed N]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorClient } from '../cli/client.js';
import { BENCH_USER, NSML_BIN, ROOT, arg, machine, median, printTable, sleep, waitUntil, writeFiles } from './core-cluster.js';

const MINUTES = arg('minutes', 10);
const SESSIONS = arg('sessions', 20);
const AGENTS = arg('agents', 10);
const SEED = arg('seed', Date.now() % 100_000);
const STEP_MS = 100;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);

class Soak {
  readonly dir = mkdtempSync(join(tmpdir(), 'nsml-soak-'));
  readonly home = join(this.dir, 'home');
  address = '';
  token = '';
  private coordinator: ChildProcess | undefined;
  private readonly agents = new Map<string, ChildProcess>();

  env(): NodeJS.ProcessEnv {
    return { ...process.env, NSML_HOME: this.home, NSML_COORDINATOR: this.address, NSML_TOKEN: this.token, NSML_LOG_LEVEL: 'error' };
  }

  spawn(args: string[]): ChildProcess {
    return spawn(process.execPath, [NSML_BIN, ...args], { cwd: this.dir, env: this.env(), stdio: ['ignore', 'ignore', process.env.NSML_BENCH_VERBOSE ? 'inherit' : 'ignore'] });
  }

  async startCoordinator(): Promise<void> {
    const data = join(this.dir, 'coordinator');
    const info = join(data, 'coordinator.json');
    rmSync(info, { force: true });
    const port = this.address ? this.address.split(':')[1]! : '0';
    this.coordinator = this.spawn(['coordinator', '--port', port, '--data', data, '--heartbeat-timeout', '10s', '--admins', BENCH_USER]);
    await waitUntil(() => existsSync(info), 'the coordinator to listen');
    this.address = (JSON.parse(readFileSync(info, 'utf8')) as { address: string }).address;
    this.token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  }

  startAgent(name: string): void {
    this.agents.set(name, this.spawn(['agent', '--coordinator', this.address, '--data', join(this.dir, name), '--name', name, '--gpus', 'none']));
  }

  async kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async killCoordinator(): Promise<void> {
    await this.kill(this.coordinator, 'SIGKILL');
  }

  async killAgent(name: string, signal: NodeJS.Signals): Promise<void> {
    await this.kill(this.agents.get(name), signal);
  }

  nsml(args: string[], cwd = this.dir): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [NSML_BIN, ...args], { cwd, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  }

  /** Every node ready, and heard from since `sinceMs` (after a restart: reconnected). */
  async allReady(sinceMs = 0): Promise<boolean> {
    const client = new CoordinatorClient({ address: this.address, user: BENCH_USER, env: this.env() });
    try {
      const nodes = await client.listNodes(AbortSignal.timeout(2_000));
      return nodes.length === AGENTS && nodes.every((n) => n.state === 'ready' && Number(n.lastHeartbeatMs) >= sinceMs);
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  async close(): Promise<void> {
    for (const a of this.agents.values()) await this.kill(a, 'SIGTERM');
    await this.kill(this.coordinator, 'SIGTERM');
    spawn('pkill', ['-9', '-f', this.dir]);
    await sleep(500);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Submitted {
  name: string;
  steps: number;
}

async function main(): Promise<void> {
  console.log(`chaos soak: ${SESSIONS} sessions on ${AGENTS} agents for ${MINUTES} min, a kill every 20–40 s (seed ${SEED})`);
  console.log(machine());
  const soak = new Soak();
  const ws = join(soak.dir, 'ws');
  writeFiles(ws, { 'main.py': readFileSync(join(ROOT, 'test', 'chaos', 'counting-train.py'), 'utf8') });
  await soak.startCoordinator();
  for (let i = 1; i <= AGENTS; i += 1) soak.startAgent(`node${i}`);
  await waitUntil(() => soak.allReady(), 'every agent to register', 60_000);

  const submitted: Submitted[] = [];
  const refused: string[] = [];
  const endAt = Date.now() + MINUTES * 60_000;
  let live = 0;
  const submitter = (async () => {
    while (Date.now() < endAt) {
      if (live >= SESSIONS) {
        await sleep(500);
        continue;
      }
      const steps = 300 + Math.floor(random() * 600);
      live++;
      const run = await soak.nsml(['run', '--detach', '--json', '-a', `${steps} ${STEP_MS}`], ws);
      if (run.code !== 0) {
        live--;
        refused.push(run.stderr.trim().split('\n').pop() ?? '');
        await sleep(1_000);
        continue;
      }
      const name = (JSON.parse(run.stdout) as { name: string }).name;
      submitted.push({ name, steps });
      void soak.nsml(['wait', name]).then(async function waitAgain(r): Promise<void> {
        // `nsml wait` gives up when the coordinator is gone for long: ask again.
        if (r.code !== 0 && /UNAVAILABLE|DEADLINE|unreachable/i.test(r.stderr)) return waitAgain(await soak.nsml(['wait', name]));
        live--;
      });
    }
  })();

  const kills: Array<{ what: string; recoveryMs: number; fromRestartMs: number }> = [];
  while (Date.now() < endAt - 20_000) {
    await sleep(20_000 + random() * 20_000);
    const coordinator = random() < 0.25;
    const node = `node${1 + Math.floor(random() * AGENTS)}`;
    const signal: NodeJS.Signals = random() < 0.5 ? 'SIGKILL' : 'SIGTERM';
    const killedAt = Date.now();
    if (coordinator) await soak.killCoordinator();
    else await soak.killAgent(node, signal);
    await sleep(200 + random() * 800);
    const restartedAt = Date.now();
    if (coordinator) await soak.startCoordinator();
    else soak.startAgent(node);
    await waitUntil(() => soak.allReady(restartedAt), 'the cluster to recover', 120_000);
    const what = coordinator ? 'coordinator -9' : `${node} ${signal === 'SIGKILL' ? '-9' : 'TERM'}`;
    kills.push({ what, recoveryMs: Date.now() - killedAt, fromRestartMs: Date.now() - restartedAt });
    console.log(`  ${new Date().toISOString().slice(11, 19)} killed ${what}: recovered ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  }
  await submitter;
  console.log(`  submitting stopped; waiting for ${live} sessions to end`);
  await waitUntil(() => live <= 0, 'the sessions to end', 15 * 60_000);

  let lostLines = 0;
  let dupLines = 0;
  let lostPoints = 0;
  let dupPoints = 0;
  const notSucceeded: string[] = [];
  const ps = JSON.parse((await soak.nsml(['ps', '-a', '--json', '--limit', '100000'])).stdout) as Array<{ name: string; state: string; reason?: string }>;
  const byName = new Map(ps.map((s) => [s.name, s]));
  for (const s of submitted) {
    const state = byName.get(s.name)?.state ?? 'missing';
    if (state !== 'succeeded') notSucceeded.push(`${s.name} ${state} ${byName.get(s.name)?.reason ?? ''}`);
    const logs = JSON.parse((await soak.nsml(['logs', s.name, '--json'])).stdout || '[]') as Array<{ text: string }>;
    const metrics = JSON.parse((await soak.nsml(['metrics', s.name, '--key', 'train/loss', '--json'])).stdout || '{"points":[]}') as { points: Array<{ step: number }> };
    const count = (xs: number[]) => {
      const m = new Map<number, number>();
      for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
      let lost = 0;
      let dup = 0;
      for (let i = 1; i <= s.steps; i += 1) {
        const n = m.get(i) ?? 0;
        if (n === 0) lost++;
        if (n > 1) dup += n - 1;
      }
      return { lost, dup };
    };
    const l = count(logs.flatMap((x) => { const m = /^line (\d+)$/.exec(x.text); return m ? [Number(m[1])] : []; }));
    const p = count(metrics.points.map((x) => x.step));
    lostLines += l.lost;
    dupLines += l.dup;
    lostPoints += p.lost;
    dupPoints += p.dup;
  }
  const extraSessions = ps.filter((s) => !submitted.some((x) => x.name === s.name)).length;
  await soak.close();

  const lines = submitted.reduce((a, s) => a + s.steps, 0);
  const rec = kills.map((k) => k.recoveryMs / 1000);
  console.log('\nresults');
  printTable([
    ['sessions submitted / ended succeeded', `${submitted.length} / ${submitted.length - notSucceeded.length}`],
    ['sessions lost (not succeeded)', String(notSucceeded.length), '0'],
    ['sessions duplicated (stored, never answered)', String(extraSessions), '0'],
    ['submissions refused (retried later)', String(refused.length)],
    ['log lines produced', String(lines)],
    ['log lines lost / duplicated', `${lostLines} / ${dupLines}`, '0 / 0'],
    ['metric points produced', String(lines)],
    ['metric points lost / duplicated', `${lostPoints} / ${dupPoints}`, '0 / 0'],
    ['kills (coordinator / agents)', `${kills.length} (${kills.filter((k) => k.what.startsWith('coord')).length} / ${kills.filter((k) => !k.what.startsWith('coord')).length})`],
    ['recovery after a kill, p50 / max', `${median(rec).toFixed(1)} s / ${Math.max(0, ...rec).toFixed(1)} s`],
  ]);
  for (const s of notSucceeded.slice(0, 10)) console.log(`  not succeeded: ${s}`);
  for (const r of [...new Set(refused)].slice(0, 5)) console.log(`  refused: ${r}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

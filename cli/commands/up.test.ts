import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../common/proto/load.js';
import { localPaths } from '../local/paths.js';
import { isNsmlProcess, readPid, stopProcess } from '../local/processes.js';

const ROOT = repoRoot();
const BUILT = existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(join(ROOT, 'dist', 'agent', 'main.js'));

let home: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function pgrep(pattern: string): boolean {
  return spawnSync('pgrep', ['-f', pattern]).status === 0;
}

async function nsml(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'nsml.js'), ...args], {
      cwd,
      env: { ...process.env, NSML_HOME: home, NSML_COORDINATOR: '', NSML_LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!BUILT)('nsml up, status, down (built CLI)', () => {
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'nsml-up-'));
  });
  afterAll(async () => {
    const paths = localPaths({ NSML_HOME: home });
    await stopProcess(readPid(paths.agentPid), 2_000);
    await stopProcess(readPid(paths.coordinatorPid), 2_000);
    rmSync(home, { recursive: true, force: true });
  });

  it('starts both in the background, is idempotent, reports status, and stops both', async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const up = await nsml(['up', '--port', String(port), '--http-port', String(httpPort)]);
    expect(up.stderr).not.toMatch(/NSML_E_/);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`nsml is up: coordinator 127.0.0.1:${port}`);
    // The coordinator serves Prometheus metrics where `up` says, with the node its agent registered.
    expect(up.stdout).toContain(`\nmetrics: http://127.0.0.1:${httpPort}/metrics\n`);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^nsml_nodes\{state="ready"\} 1$/m);
    expect(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))).toEqual({ coordinator: `127.0.0.1:${port}` });
    const paths = localPaths({ NSML_HOME: home });
    const pids = [readPid(paths.coordinatorPid), readPid(paths.agentPid)];
    expect(pids.every((p) => isNsmlProcess(p))).toBe(true);

    const again = await nsml(['up']);
    expect(again.stdout).toContain('nsml is already up');
    expect(again.stdout).toContain(`metrics: http://127.0.0.1:${httpPort}/metrics`);
    expect([readPid(paths.coordinatorPid), readPid(paths.agentPid)]).toEqual(pids);

    const status = await nsml(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ up: true, address: `127.0.0.1:${port}`, agent: { running: true } });
    const nodes = JSON.parse((await nsml(['node', 'ls', '--json'])).stdout) as Array<{ state: string; inventory: { gpus: unknown[] } }>;
    expect(nodes.map((n) => n.state)).toEqual(['ready']);
    // The note about -g comes exactly when the agent found no GPU.
    expect(up.stdout.includes('the agent sees no GPU')).toBe(nodes[0]!.inventory.gpus.length === 0);

    // A session still running when `down` comes is stopped first, leaving no process behind.
    const marker = `forever_${process.pid}_${Date.now()}`;
    const ws = mkdtempSync(join(tmpdir(), 'nsml-up-ws-'));
    writeFileSync(join(ws, `${marker}.py`), 'import time\nprint("up", flush=True)\nwhile True:\n    time.sleep(0.1)\n');
    const run = await nsml(['run', '--detach', '--json', '-e', `${marker}.py`], ws);
    expect(run.code, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    for (let i = 0; i < 100; i += 1) {
      const ps = JSON.parse((await nsml(['ps', '--json'])).stdout) as Array<{ name: string; state: string }>;
      if (ps.find((x) => x.name === name)?.state === 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(pgrep(marker)).toBe(true);

    const down = await nsml(['down']);
    expect(down.stdout).toBe(`stopped 1 session(s): ${name}\nstopped the agent and the coordinator\n`);
    expect(pgrep(marker)).toBe(false);
    rmSync(ws, { recursive: true, force: true });
    expect(pids.some((p) => isNsmlProcess(p))).toBe(false);
    const after = await nsml(['status']);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^nsml is down/);
    expect((await nsml(['down'])).stdout).toBe('nsml was not up\n');
  });

  it('stops an agent started by hand on its data folder after the first one died', async () => {
    const port = await freePort();
    const up = await nsml(['up', '--port', String(port)]);
    expect(up.code).toBe(0);
    // Without --http-port the HTTP server takes the port after the coordinator's.
    expect(up.stdout).toContain(`metrics: http://127.0.0.1:${port + 1}/metrics`);
    expect((await fetch(`http://127.0.0.1:${port + 1}/healthz`)).status).toBe(200);
    const paths = localPaths({ NSML_HOME: home });
    const first = readPid(paths.agentPid)!;
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 50 && isNsmlProcess(first); i += 1) await new Promise((r) => setTimeout(r, 100));
    const { spawn } = await import('node:child_process');
    const byHand = spawn(process.execPath, [join(ROOT, 'bin', 'nsml.js'), 'agent', '--coordinator', `127.0.0.1:${port}`, '--data', paths.agentData], {
      env: { ...process.env, NSML_HOME: home, NSML_LOG_LEVEL: 'warn', NSML_AGENT_ISOLATION: 'none' }, stdio: 'ignore', detached: true,
    });
    byHand.unref();
    for (let i = 0; i < 100 && !existsSync(join(paths.agentData, 'agent.lock')); i += 1) await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 100; i += 1) {
      if ((JSON.parse(readFileSync(join(paths.agentData, 'agent.lock'), 'utf8')) as { pid: number }).pid === byHand.pid) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(JSON.parse((await nsml(['status', '--json'])).stdout)).toMatchObject({ agent: { pid: byHand.pid, running: true } });
    const down = await nsml(['down']);
    expect(down.stdout).toContain('stopped the agent and the coordinator');
    expect(isNsmlProcess(byHand.pid)).toBe(false);
  });
});

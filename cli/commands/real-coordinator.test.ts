import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { type Coordinator, startCoordinator } from '../../coordinator/main.js';
import { issueTestToken } from '../../test/harness/test-coordinator.js';
import { captureIo } from '../io.js';
import { runCliWith } from '../main.js';
import { ScriptedAgent } from '../test-fixtures/scripted-agent.js';

let dir: string;
let ws: string;
let coordinator: Coordinator;
let agent: ScriptedAgent;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-cli-real-'));
  ws = join(dir, 'ws');
  mkdirSync(ws);
  writeFileSync(join(ws, 'main.py'), 'import sys\nprint(sys.argv)\n');
  coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), port: 0, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 5_000, scheduleIntervalMs: 100, logger: silentLogger });
  agent = new ScriptedAgent(coordinator.address, 'node1');
});

afterAll(async () => {
  agent?.close();
  await coordinator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function nsml(argv: string[]) {
  const io = captureIo({ cwd: ws, env: { NSML_HOME: join(dir, 'home'), NSML_COORDINATOR: coordinator.address, NSML_TOKEN: issueTestToken(join(dir, 'coordinator'), 'carol') } });
  const code = await runCliWith(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('the CLI against the real coordinator', () => {
  it('runs a session, lists it, waits for it and prints its logs', async () => {
    const nodes = async () => JSON.parse((await nsml(['node', 'ls', '--json'])).stdout) as Array<{ id: string; state: string }>;
    for (let i = 0; i < 100 && !(await nodes()).some((n) => n.id === 'node1' && n.state === 'ready'); i++) await new Promise((r) => setTimeout(r, 50));

    const submitted = await nsml(['run', '--detach', '--json', '-a', '--lr 0.1', '-m', 'first']);
    expect(submitted.stderr).toContain('uploaded 1 file');
    expect(submitted.code).toBe(0);
    const { name } = JSON.parse(submitted.stdout) as { name: string };
    expect(name).toBe('carol/scratch/1');

    const waited = await nsml(['wait', name, '--timeout', '20s']);
    expect(waited.stdout).toMatch(/^carol\/scratch\/1 succeeded \(exit 0\)/);
    expect(waited.code).toBe(0);
    expect(agent.starts[0]).toMatchObject({ session: name, entry: 'main.py', args: ['--lr', '0.1'] });

    const ps = JSON.parse((await nsml(['ps', '-a', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(ps.map((s) => [s.name, s.state, s.memo])).toEqual([[name, 'succeeded', 'first']]);
    expect((await nsml(['ps', '--json'])).stdout.trim()).toBe('[]');

    const logs = await nsml(['logs', name, '-f']);
    expect(logs.stdout).toBe('running main.py\n--lr\n0.1\n');

    const again = await nsml(['run', '-a', 'x']);
    expect(again.stderr).toContain('uploaded 0 files, 0 B (1 unchanged)');
    expect(again.stdout).toBe('carol/scratch/2\nrunning main.py\nx\n');
    expect(again.code).toBe(0);
  });

  it('nsml coordinator serves until its signal aborts, then closes', async () => {
    const data = join(dir, 'fg');
    const controller = new AbortController();
    const io = captureIo({ cwd: ws, env: { NSML_HOME: join(dir, 'home2') }, signal: controller.signal });
    const running = runCliWith(['coordinator', '--port', '0', '--data', data, '--heartbeat-timeout', '5s'], io);
    const info = join(data, 'coordinator.json');
    for (let i = 0; i < 200 && !existsSync(info); i++) await new Promise((r) => setTimeout(r, 25));
    const { address } = JSON.parse(readFileSync(info, 'utf8')) as { address: string };
    expect(io.stderr()).toContain(`listening on ${address}`);
    const ps = captureIo({ env: { NSML_COORDINATOR: address, NSML_TOKEN: issueTestToken(data, 'dave') } });
    expect(await runCliWith(['ps', '--json'], ps)).toBe(0);
    expect(ps.stdout().trim()).toBe('[]');
    controller.abort();
    expect(await running).toBe(0);
    expect(existsSync(info)).toBe(false);
  });
});

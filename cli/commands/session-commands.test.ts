import * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeManifest } from '../../common/manifest.js';
import { sha256 } from '../../common/hashing.js';
import { CoordinatorClient } from '../client.js';
import { captureIo } from '../io.js';
import { runCliWith } from '../main.js';
import { FakeCoordinator, fakeToken, line } from '../test-fixtures/fake-coordinator.js';

let fake: FakeCoordinator;
let dir: string;
let ws: string;

beforeAll(async () => {
  fake = await FakeCoordinator.start();
});
afterAll(() => fake.stop());

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-cli-'));
  ws = join(dir, 'ws');
  mkdirSync(ws);
  fake.reset();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function nsml(argv: string[], env: Record<string, string> = {}) {
  const io = captureIo({ cwd: ws, env: { NSML_HOME: join(dir, 'home'), NSML_COORDINATOR: fake.address, NSML_TOKEN: fakeToken('alice'), ...env } });
  const code = await runCliWith(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function session(name: string, state: string, extra: Record<string, unknown> = {}) {
  fake.sessions.set(name, { name, user: name.split('/')[0], state, gpus: 1, createdMs: Date.now() - 5_000, placements: [{ nodeId: 'node1', gpuIndices: [0], rank: 0 }], ...extra });
}

describe('nsml run', () => {
  it('uploads only missing blobs, submits, and prints the name', async () => {
    writeFileSync(join(ws, 'main.py'), 'print("hi")\n');
    writeFileSync(join(ws, 'util.py'), 'X = 1\n');
    writeFileSync(join(ws, 'notes.tmp'), 'scratch');
    writeFileSync(join(ws, '.gitignore'), '*.tmp\n');
    const first = await nsml(['run', '--detach', '--json', '-g', '2', '-c', '4', '-a', `--lr 0.1 --name 'a b'`, '-m', 'try 1', '--time', '2h']);
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ name: 'alice/scratch/1', state: 'queued', uploadedFiles: 3, unchangedFiles: 0 });
    expect(out.uploadedBytes).toBe(12 + 6 + 6);
    expect(first.stderr).toContain('uploaded 3 files, 24 B (0 unchanged)');
    const { user, request } = fake.submits[0]!;
    expect(user).toBe('alice');
    expect(request).toMatchObject({ gpus: 2, cpus: 4, entry: 'main.py', args: ['--lr', '0.1', '--name', 'a b'], memo: 'try 1', timeLimitS: 7200 });
    const manifest = decodeManifest(fake.blobs.get(request.workspace!)!);
    expect(manifest.entries.map((e) => e.path)).toEqual(['.gitignore', 'main.py', 'util.py']);

    fake.putHashes.length = 0;
    writeFileSync(join(ws, 'util.py'), 'X = 22\n');
    const second = await nsml(['run', '--detach']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('alice/scratch/2\n');
    expect(second.stderr).toContain('uploaded 1 file, 7 B (2 unchanged)');
    expect(fake.putHashes).toEqual([sha256('X = 22\n'), fake.submits[1]!.request.workspace]);

    fake.putHashes.length = 0;
    const third = await nsml(['run', '--detach', '--json']);
    expect(JSON.parse(third.stdout).uploadedBytes).toBe(0);
    expect(fake.putHashes).toEqual([]);
  });

  it('refuses a missing entry before calling the coordinator', async () => {
    writeFileSync(join(ws, 'main.py'), 'x');
    const r = await nsml(['run', '-e', 'train.py', '--detach']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nsml: NSML_E_ENTRY_NOT_FOUND: entry "train.py"/);
    expect(fake.submits).toHaveLength(0);
  });

  it.each([
    [['-g', 'two'], /--gpus must be a whole number/],
    [['--time', '10'], /--time must be a duration/],
    [['-a', `'unclosed`], /unterminated/],
    [['-d', 'Bad Name'], /NSML_E_INVALID_NAME/],
    [['--bogus'], /unknown option --bogus/],
  ])('run %j is a usage error', async (args, message) => {
    writeFileSync(join(ws, 'main.py'), 'x');
    const r = await nsml(['run', '--detach', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(/INVALID_NAME/.test(String(message)) ? 1 : 2);
  });

  it.each([
    ['succeeded', 0, 0],
    ['failed', 1, 1],
  ])('follows the logs to the end: %s gives exit status %d', async (state, exitCode, status) => {
    writeFileSync(join(ws, 'main.py'), 'x');
    fake.logs = (call) => {
      call.write(line(1, 'epoch 1'));
      call.write(line(2, 'warning', 'stderr'));
      fake.setState(call.request.name, state, { exitCode, startedMs: Date.now() - 1000, endedMs: Date.now() });
      call.end();
    };
    const r = await nsml(['run']);
    expect(r.code).toBe(status);
    expect(r.stdout).toBe('alice/scratch/1\nepoch 1\n');
    expect(r.stderr).toContain('warning\n');
    expect(r.stderr).toContain(`alice/scratch/1 ${state} (exit ${exitCode})`);
  });
  it('leaves the session running when interrupted while following', async () => {
    writeFileSync(join(ws, 'main.py'), 'x');
    const controller = new AbortController();
    fake.logs = (call) => {
      call.write(line(1, 'working'));
      setTimeout(() => controller.abort(), 50);
    };
    const io = captureIo({ cwd: ws, signal: controller.signal, env: { NSML_HOME: join(dir, 'home'), NSML_COORDINATOR: fake.address, NSML_TOKEN: fakeToken('alice') } });
    expect(await runCliWith(['run'], io)).toBe(130);
    expect(io.stdout()).toBe('alice/scratch/1\nworking\n');
    expect(io.stderr()).toContain('alice/scratch/1 keeps running: `nsml logs -f alice/scratch/1` to follow');
    expect(fake.get('alice/scratch/1').state).toBe('queued');
  });
});

describe('nsml ps', () => {
  it('prints a JSON array of sessions, and a table', async () => {
    session('alice/mnist/1', 'running', { startedMs: Date.now() - 65_000, memo: 'baseline' });
    session('alice/mnist/2', 'queued', { reason: 'waiting for 8 GPUs', placements: [] });
    const json = await nsml(['ps', '--json']);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(list.map((s) => [s.name, s.state, s.gpus])).toEqual([['alice/mnist/1', 'running', 1], ['alice/mnist/2', 'queued', 1]]);
    expect(list[0]).toHaveProperty('placements');
    const table = await nsml(['ps']);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+STATE\s+TYPE\s+GPUS\s+NODES\s+CREATED\s+DURATION\s+REASON\/MEMO$/);
    expect(rows[1]).toMatch(/^alice\/mnist\/1\s+running\s+normal\s+1\s+node1\s+5s ago\s+1m0[45]s\s+baseline$/);
    expect(rows[2]).toMatch(/queued .* waiting for 8 GPUs$/);
  });

  it('refuses --user with --all-users', async () => {
    const r = await nsml(['ps', '--user', 'bob', '--all-users']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^nsml: NSML_E_USAGE: give --user or --all-users/);
  });
});

describe('nsml logs', () => {
  it('resumes from the last cursor after a dropped stream, with no line lost or repeated', async () => {
    session('alice/scratch/1', 'running');
    let calls = 0;
    fake.logs = (call) => {
      calls += 1;
      if (calls === 1) {
        for (const c of [1, 2, 3]) call.write(line(c, `line ${c}`));
        setTimeout(() => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection dropped' }), 20);
      } else {
        for (const c of [3, 4, 5]) call.write(line(c, `line ${c}`));
        fake.setState('alice/scratch/1', 'succeeded');
        call.end();
      }
    };
    const r = await nsml(['logs', '-f', 'scratch/1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(fake.logsRequests).toEqual([{ fromCursor: 0, follow: true }, { fromCursor: 3, follow: true }]);
  });

  it('resumes when a stream ends cleanly before the session does', async () => {
    session('alice/scratch/1', 'running');
    let calls = 0;
    fake.logs = (call) => {
      calls += 1;
      call.write(line(calls, `line ${calls}`));
      if (calls === 2) fake.setState('alice/scratch/1', 'failed');
      call.end();
    };
    const r = await nsml(['logs', '--follow', 'alice/scratch/1']);
    expect(r.stdout).toBe('line 1\nline 2\n');
    expect(fake.logsRequests.map((q) => q.fromCursor)).toEqual([0, 1]);
  });

  it('prints a JSON array without -f and ranks when the session has several', async () => {
    session('alice/scratch/1', 'succeeded', { placements: [{ nodeId: 'a', rank: 0 }, { nodeId: 'b', rank: 1 }] });
    fake.logs = (call) => {
      call.write(line(1, 'r0'));
      call.write(line(2, 'r1', 'stdout', 1));
      call.end();
    };
    const json = await nsml(['logs', 'alice/scratch/1', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      { cursor: 1, rank: 0, seq: 1, tsMs: 1001, stream: 'stdout', text: 'r0' },
      { cursor: 2, rank: 1, seq: 2, tsMs: 1002, stream: 'stdout', text: 'r1' },
    ]);
    expect((await nsml(['logs', 'alice/scratch/1'])).stdout).toBe('[rank 0] r0\n[rank 1] r1\n');
  });

  it('reports an unknown session with its code', async () => {
    const r = await nsml(['logs', 'alice/scratch/9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nsml: NSML_E_SESSION_NOT_FOUND: /);
  });
});

describe('nsml wait and stop', () => {
  it.each([
    ['succeeded', 0],
    ['failed', 1],
    ['lost', 1],
  ])('waits over several rounds until %s (exit %d)', async (state, status) => {
    session('alice/scratch/1', 'running');
    let rounds = 0;
    fake.wait = (call, cb) => {
      rounds += 1;
      if (rounds === 3) fake.setState('alice/scratch/1', state, { exitCode: status, reason: state === 'lost' ? 'node1 went down' : '' });
      cb(null, fake.get(call.request.name));
    };
    const r = await nsml(['wait', 'alice/scratch/1']);
    expect(r.code).toBe(status);
    expect(rounds).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`^alice/scratch/1 ${state} \\(exit ${status}\\)`));
  });

  it('gives up after --timeout with NSML_E_TIMEOUT', async () => {
    session('alice/scratch/1', 'running');
    fake.wait = (call, cb) => setTimeout(() => cb(null, fake.get(call.request.name)), Number(call.request.timeoutMs));
    const r = await nsml(['wait', 'alice/scratch/1', '--timeout', '300ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NSML_E_TIMEOUT: alice\/scratch\/1 is still running after 300ms/);
  });

  it('stops a session', async () => {
    session('alice/scratch/1', 'running');
    const r = await nsml(['stop', 'alice/scratch/1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('alice/scratch/1: stopped (stopped by user)\n');
  });
});

describe('nsml node', () => {
  it('lists nodes with GPU health, and drains one', async () => {
    const gpu = (index: number, health = 'ok') => ({ index, uuid: `GPU-${index}`, name: 'H100', memoryTotalMib: 81_559, health });
    fake.nodes = [
      { id: 'node1', state: 'ready', lastHeartbeatMs: Date.now() - 2_000, sessions: ['alice/scratch/1'], allocatedGpus: [0],
        inventory: { hostname: 'n1', cpus: 32, memoryMib: 262_144, gpus: [gpu(0), gpu(1), gpu(2, 'quarantined')] } },
    ];
    const json = JSON.parse((await nsml(['node', 'ls', '--json'])).stdout);
    expect(json[0]).toMatchObject({ id: 'node1', state: 'ready', allocatedGpus: [0] });
    const table = (await nsml(['node', 'ls'])).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+STATE\s+GPUS\s+GPU HEALTH\s+CPUS\s+MEMORY\s+HEARTBEAT\s+SESSIONS$/);
    expect(table[1]).toMatch(/^node1\s+ready\s+1\/3 free\s+1 quarantined\s+32\s+256\.0 GB\s+2s ago\s+alice\/scratch\/1$/);
    const shown = (await nsml(['node', 'show', 'node1'])).stdout;
    expect(shown).toMatch(/^node1 {2}ready {2}1\/3 GPUs free/);
    expect(shown).toMatch(/\n2\s+GPU-2\s+H100\s+-\/81559 MiB.*quarantined\s+0\n/);
    expect((await nsml(['node', 'show', 'nope'])).stderr).toMatch(/NSML_E_NODE_NOT_FOUND: no node named "nope"; known nodes: node1/);
    const drained = await nsml(['node', 'drain', 'node1', '--reason', 'disk swap']);
    expect(drained.stdout).toBe('node1: draining (disk swap)\n');
    expect((await nsml(['node', 'drain', 'nope'])).stderr).toMatch(/NSML_E_/);
  });
});

describe('an unreachable coordinator', () => {
  it('gives NSML_E_COORDINATOR_UNAVAILABLE for a closed port', async () => {
    const started = Date.now();
    const r = await nsml(['ps'], { NSML_COORDINATOR: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nsml: NSML_E_COORDINATOR_UNAVAILABLE: cannot reach the coordinator at 127.0.0.1:1/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('gives NSML_E_COORDINATOR_UNAVAILABLE for a peer that never answers, after the connect timeout', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const client = new CoordinatorClient({ address: `127.0.0.1:${port}`, user: 'alice', connectTimeoutMs: 300 });
    try {
      await expect(client.listSessions({})).rejects.toMatchObject({ code: 'NSML_E_COORDINATOR_UNAVAILABLE' });
    } finally {
      client.close();
      silent.close();
    }
  });
});

describe('help and usage', () => {
  it('prints usage for nsml --help and nsml CMD --help', async () => {
    const main = await nsml(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Usage: nsml COMMAND/);
    for (const cmd of ['run', 'ps', 'logs', 'stop', 'wait', 'node', 'up', 'down', 'status', 'coordinator']) {
      const r = await nsml([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: nsml ${cmd}`));
    }
  });

  it('exits 2 on an unknown command', async () => {
    const r = await nsml(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^nsml: NSML_E_USAGE: unknown command "frobnicate"/);
  });
});

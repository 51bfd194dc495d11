import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture, eventually, shippedLines } from '../testing/runner-fixture.js';
import { readExit } from './exited.js';
import { processGroupOf, signalGroup } from './proc.js';
import type { RankContext } from './rank-context.js';
import { SessionDir } from './session-dir.js';
import { start } from './start.js';

describe('start', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  function ctx(python = 'python3'): RankContext {
    f = new RunnerFixture();
    const dir = new SessionDir(join(f.dir, 'rank'));
    mkdirSync(dir.workspace, { recursive: true });
    return { spec: f.spec({ workspace: '' }), dir, deps: f.deps({ python }), signal: new AbortController().signal };
  }

  it('starts the supervisor in a session of its own, which starts the command in a group of its own', async () => {
    const c = ctx();
    const script = 'import os, sys; print(os.getpgid(0), os.getsid(0)); sys.stderr.write("to stderr\\n")';
    const supervisor = await start(c, { argv: ['python3', '-c', script], cwd: c.dir.workspace, env: { PATH: process.env.PATH ?? '' } });
    expect(supervisor.pid).toBeGreaterThan(0);
    const end = await eventually(() => readExit(c.dir), 'exit.json');
    expect(end).toMatchObject({ exitCode: 0, signal: null });
    const child = JSON.parse(readFileSync(c.dir.file('child.json'), 'utf8')) as { pid: number; pgid: number };
    expect(child.pgid).toBe(child.pid);
    const lines = shippedLines(c.dir);
    const [pgid, sid] = lines.find((l) => l.stream === 'stdout')!.text.split(' ').map(Number);
    expect(pgid).toBe(child.pid);
    expect(pgid).not.toBe(processGroupOf(process.pid));
    expect(sid).toBe(supervisor.pid);
    expect(lines.find((l) => l.stream === 'stderr')?.text).toBe('to stderr');
  });

  it('records exit code 127 and says why when the command cannot be started', async () => {
    const c = ctx();
    await start(c, { argv: ['/no/such/program'], cwd: c.dir.workspace, env: {} });
    const end = await eventually(() => readExit(c.dir), 'exit.json');
    expect(end.exitCode).toBe(127);
    expect(end.message).toContain('cannot start /no/such/program');
    expect(shippedLines(c.dir)[0]?.text).toContain('cannot start /no/such/program');
  });

  it('fails with NSML_E_SPAWN_FAILED when the Python is missing', async () => {
    const c = ctx('/no/such/python3');
    const err = await start(c, { argv: ['x'], cwd: c.dir.workspace, env: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NSML_E_SPAWN_FAILED' });
    expect((err as Error).message).toMatch(/install Python 3 on the node .*or start the agent with --python \/path\/to\/python3/);
  });

  it('leaves the process running when the starter goes away: it has no pipe to it', async () => {
    const c = ctx();
    await start(c, { argv: ['python3', '-c', 'import time; print("up", flush=True); time.sleep(30)'], cwd: c.dir.workspace, env: { PATH: process.env.PATH ?? '' } });
    await eventually(() => shippedLines(c.dir).length > 0, 'the first line');
    const child = JSON.parse(readFileSync(c.dir.file('child.json'), 'utf8')) as { pgid: number };
    expect(signalGroup(child.pgid, 'SIGKILL')).toBe(true);
    const end = await eventually(() => readExit(c.dir), 'exit.json');
    expect(end.signal).toBe('SIGKILL');
  });
});

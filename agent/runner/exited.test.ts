import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { exited, readExit } from './exited.js';
import { readProcStat } from './proc.js';
import type { RankContext } from './rank-context.js';
import { SessionDir } from './session-dir.js';

describe('exited', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  function ctx(signal = new AbortController().signal): RankContext {
    f = new RunnerFixture();
    const dir = new SessionDir(join(f.dir, 'rank'));
    mkdirSync(dir.root, { recursive: true });
    return { spec: f.spec({ workspace: '' }), dir, deps: f.deps(), signal };
  }
  const me = () => ({ pid: process.pid, startTicks: readProcStat(process.pid)!.startTicks });

  it('returns what the supervisor recorded', async () => {
    const c = ctx();
    c.dir.writeJson('exit.json', { exitCode: 4, signal: null, message: '', endedMs: 123 });
    expect(await exited(c, me())).toEqual({ exitCode: 4, signal: null, message: '', endedMs: 123 });
    expect(readExit(c.dir)?.exitCode).toBe(4);
  });

  it('waits while the supervisor lives, then reads its record', async () => {
    const c = ctx();
    const waiting = exited(c, me());
    setTimeout(() => c.dir.writeJson('exit.json', { exitCode: null, signal: 'SIGTERM', endedMs: 5 }), 100);
    expect(await waiting).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
  });

  it('reports a supervisor that is gone without a record as killed', async () => {
    const c = ctx();
    const gone = execa('true');
    const pid = gone.pid!;
    await gone;
    expect(await exited(c, { pid, startTicks: null })).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('never takes a reused pid for the supervisor: the start time must match', async () => {
    const c = ctx();
    const end = await exited(c, { pid: process.pid, startTicks: 'not-when-it-started' });
    expect(end.message).toContain('supervisor ended without recording');
  });

  it('stops waiting when aborted (the agent is closing)', async () => {
    const ac = new AbortController();
    const c = ctx(ac.signal);
    const waiting = exited(c, me());
    ac.abort(new Error('closing'));
    await expect(waiting).rejects.toThrow('closing');
  });
});

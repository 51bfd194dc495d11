import { existsSync, mkdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture, eventually, shippedLines } from '../testing/runner-fixture.js';
import { readExit } from './exited.js';
import type { RankRunner } from './rank-runner.js';
import { Runner } from './runner.js';
import { SessionDir } from './session-dir.js';

/** An agent restart, simulated: the first runner stops watching (as if killed), a second opens the same folder. */
describe('Runner re-adoption after an agent restart', () => {
  const fixtures: RunnerFixture[] = [];
  const runners: Runner[] = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stopAll(0, 'test over');
    for (const f of fixtures.splice(0)) f.cleanup();
  });
  function open(f: RunnerFixture): Runner {
    const r = Runner.open(f.sessionsDir, f.deps());
    runners.push(r);
    return r;
  }
  function fixture(): RunnerFixture {
    const f = new RunnerFixture();
    fixtures.push(f);
    return f;
  }
  const printed = (r: RankRunner, text: string) => eventually(() => shippedLines(r.dir).some((l) => l.text === text), `"${text}"`);

  it('adopts a live process and reports its exit code and every line', async () => {
    const f = fixture();
    const first = open(f);
    const a = first.start(f.spec({ workspace: f.fixture('sleep-then-exit.py'), args: ['1', '5'] }));
    await printed(a, 'started');
    const pid = a.pid;
    await first.detach();

    const second = open(f);
    const [b] = second.ranks();
    expect(b?.record.phase).toBe('running');
    expect(b?.pid).toBe(pid);
    await b!.whenDone();
    expect(b!.record.end).toMatchObject({ exitCode: 5, signal: null });
    expect(shippedLines(b!.dir).map((l) => l.text)).toEqual(['started', 'finished']);
  });

  it('reports a process that ended while no agent watched', async () => {
    const f = fixture();
    const first = open(f);
    const a = first.start(f.spec({ workspace: f.fixture('sleep-then-exit.py'), args: ['0.2', '3'] }));
    await printed(a, 'started');
    await first.detach();
    await eventually(() => readExit(a.dir), 'the process to end');

    const [b] = open(f).ranks();
    await b!.whenDone();
    expect(b!.record).toMatchObject({ phase: 'exited', end: { exitCode: 3 } });
    expect(existsSync(b!.dir.workspace)).toBe(false);
  });

  it('keeps a stop that was asked before the restart: SIGKILL follows after the rest of the grace', async () => {
    const f = fixture();
    const first = open(f);
    const a = first.start(f.spec({ workspace: f.fixture('ignore-sigterm.py') }));
    await printed(a, 'ignoring SIGTERM');
    a.stop(600, 'user asked');
    await first.detach();

    const [b] = open(f).ranks();
    await b!.whenDone();
    expect(b!.record.end?.signal).toBe('SIGKILL');
  });

  it('fails a rank whose process was never started before the restart', async () => {
    const f = fixture();
    const dir = SessionDir.forRank(f.sessionsDir, 'alice/scratch/9', 1, 0);
    mkdirSync(dir.root, { recursive: true });
    dir.writeJson('rank.json', f.spec({ workspace: '', session: 'alice/scratch/9' }));
    dir.writeJson('state.json', { phase: 'starting', createdMs: 1 });
    const [r] = open(f).ranks();
    await r!.whenDone();
    expect(r!.record.phase).toBe('failed_to_start');
    expect(r!.record.end?.message).toContain('the agent restarted before the process started');
  });

  it('never adopts another process that got the same pid', async () => {
    const f = fixture();
    const dir = SessionDir.forRank(f.sessionsDir, 'alice/scratch/8', 1, 0);
    mkdirSync(dir.root, { recursive: true });
    dir.writeJson('rank.json', f.spec({ workspace: '', session: 'alice/scratch/8' }));
    dir.writeJson('state.json', { phase: 'running', createdMs: 1, startedMs: 2, supervisor: { pid: process.pid, startTicks: '1' } });
    const [r] = open(f).ranks();
    await r!.whenDone();
    expect(r!.record.end).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('skips folders that hold no rank', async () => {
    const f = fixture();
    mkdirSync(`${f.sessionsDir}/junk`, { recursive: true });
    expect(open(f).ranks()).toEqual([]);
  });
});

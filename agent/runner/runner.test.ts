import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BlobCache } from '../cache/blob-cache.js';
import type { BlobSource, MemoryBlobSource } from '../cache/blob-source.js';
import { RunnerFixture, eventually, shippedLines } from '../testing/runner-fixture.js';
import { isAlive } from './proc.js';
import type { RankRunner } from './rank-runner.js';
import { Runner } from './runner.js';

describe('Runner', () => {
  const fixtures: RunnerFixture[] = [];
  const runners: Runner[] = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stopAll(0, 'test over');
    for (const f of fixtures.splice(0)) f.cleanup();
  });
  function setup(wrap?: (source: MemoryBlobSource) => BlobSource): { f: RunnerFixture; runner: Runner } {
    const f = new RunnerFixture();
    fixtures.push(f);
    const runner = Runner.open(f.sessionsDir, f.deps(wrap ? { cache: new BlobCache(join(f.dir, 'blobs'), wrap(f.source)) } : {}));
    runners.push(runner);
    return { f, runner };
  }
  const running = (r: RankRunner) => eventually(() => r.record.phase === 'running' && shippedLines(r.dir).length > 0, 'the process to print');

  it('runs an entry to its exit code and reports starting, running, exited', async () => {
    const { f, runner } = setup();
    const phases: string[] = [];
    runner.onChange((r) => phases.push(r.record.phase));
    const r = runner.start(f.spec({ workspace: f.workspace({ 'main.py': 'import sys\nsys.exit(7)\n' }) }));
    await r.whenDone();
    expect(r.record.phase).toBe('exited');
    expect(r.record.end).toMatchObject({ exitCode: 7, signal: null });
    expect(phases).toEqual(['starting', 'running', 'exited']);
    expect(existsSync(r.dir.workspace)).toBe(false);
  });

  it('reports a crash as exit code 1 with the traceback on stderr', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('crash-after.py'), args: ['2'] }));
    await r.whenDone();
    expect(r.record.end?.exitCode).toBe(1);
    const lines = shippedLines(r.dir);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['step 1', 'step 2']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text).join('\n')).toContain('RuntimeError: crashed on purpose');
  });

  it('fails to start with an actionable message when the entry is missing', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.workspace({ 'train.py': 'pass\n' }), entry: 'main.py' }));
    await r.whenDone();
    expect(r.record.phase).toBe('failed_to_start');
    expect(r.record.end?.message).toMatch(/entry main\.py is not in the workspace.*train\.py.*-e/);
  });

  it('ignores a repeated start of the same rank', async () => {
    const { f, runner } = setup();
    const spec = f.spec({ workspace: f.workspace({ 'main.py': 'pass\n' }) });
    const a = runner.start(spec);
    expect(runner.start(spec)).toBe(a);
    await a.whenDone();
    expect(runner.ranks()).toHaveLength(1);
  });

  it('stops with SIGTERM to the process group', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('forever.py') }));
    await running(r);
    expect(runner.stop('alice/scratch/1', 1, 5_000, 'user asked')).toBe(1);
    await r.whenDone();
    expect(r.record.end).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(r.record.stop?.reason).toBe('user asked');
  });

  it('lets a script that handles SIGTERM finish on its own terms', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('graceful.py') }));
    await running(r);
    r.stop(10_000, 'preempted');
    await r.whenDone();
    expect(r.record.end).toMatchObject({ exitCode: 0, signal: null });
    expect(shippedLines(r.dir).map((l) => l.text)).toEqual(['ready', 'saving']);
  });

  it('sends SIGKILL after the grace period to a process that ignores SIGTERM', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('ignore-sigterm.py') }));
    await running(r);
    r.stop(300, 'stop');
    await r.whenDone();
    expect(r.record.end).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('kills at once when the grace is 0 (a stale epoch)', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('ignore-sigterm.py') }));
    await running(r);
    runner.stop('alice/scratch/1', 0, 0, 'stale epoch 1');
    await r.whenDone();
    expect(r.record.end?.signal).toBe('SIGKILL');
  });

  it('kills an older epoch of the same rank when a newer one starts', async () => {
    const { f, runner } = setup();
    const old = runner.start(f.spec({ workspace: f.fixture('ignore-sigterm.py'), epoch: 1 }));
    await running(old);
    const next = runner.start(f.spec({ workspace: f.workspace({ 'main.py': 'pass\n' }), epoch: 2 }));
    await old.whenDone();
    expect(old.record.end?.signal).toBe('SIGKILL');
    await next.whenDone();
    expect(next.record.end?.exitCode).toBe(0);
  });

  it('ends a rank stopped while its workspace is still being fetched, without starting it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const { f, runner } = setup((source) => ({ fetch: async (h, p) => { await gate; await source.fetch(h, p); }, close: () => {} }));
    const r = runner.start(f.spec({ workspace: f.fixture('forever.py') }));
    r.stop(1_000, 'changed my mind');
    release();
    await r.whenDone();
    expect(r.record.phase).toBe('exited');
    expect(r.record.end?.message).toContain('stopped before the process started');
    expect(r.record.supervisor).toBeUndefined();
  });

  it('reports a killed supervisor as killed, and its process dies with it', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('forever.py') }));
    await running(r);
    const childPid = r.pid;
    process.kill(r.record.supervisor!.pid, 'SIGKILL');
    await r.whenDone();
    expect(r.record.end).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(r.record.end?.message).toContain('supervisor ended without recording');
    await eventually(() => !isAlive({ pid: childPid, startTicks: null }), 'the user process to die with its supervisor');
  });
});

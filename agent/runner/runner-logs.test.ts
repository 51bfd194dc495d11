import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture, shippedLines } from '../testing/runner-fixture.js';
import { Runner } from './runner.js';

describe('Runner output, through real processes', () => {
  const fixtures: RunnerFixture[] = [];
  const runners: Runner[] = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stopAll(0, 'test over');
    for (const f of fixtures.splice(0)) f.cleanup();
  });
  function setup(): { f: RunnerFixture; runner: Runner } {
    const f = new RunnerFixture();
    fixtures.push(f);
    const runner = Runner.open(f.sessionsDir, f.deps({ gpuDevice: (i) => `dev${i}` }));
    runners.push(runner);
    return { f, runner };
  }

  it('keeps every line of a fast printer, each stream in order, numbered without gaps', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('spam-stdout.py'), args: ['5000'] }));
    await r.whenDone();
    const lines = shippedLines(r.dir);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const expectOut = Array.from({ length: 5000 }, (_, i) => i + 1).filter((i) => i % 100 !== 0).map((i) => `line ${i}`);
    const expectErr = Array.from({ length: 50 }, (_, i) => `err ${(i + 1) * 100}`);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(expectOut);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(expectErr);
  });

  it('collapses a carriage-return progress bar to what a terminal shows last', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.fixture('progress-bar.py') }));
    await r.whenDone();
    // The two pipes are read as data arrives; across streams, lines written together may swap.
    const lines = shippedLines(r.dir);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['progress 100%']);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['done']);
  });

  it('gives the process its session environment and the workspace as its folder', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({
      workspace: f.fixture('print-env.py', { 'data/x.txt': 'x' }), gpuIndices: [1, 3], env: { LR: '0.5' },
      session: 'carol/mnist/2', dataset: 'mnist', user: 'carol', epoch: 4, masterPort: 29511,
    }));
    await r.whenDone();
    const [envLine, listing] = shippedLines(r.dir).map((l) => l.text);
    const env = JSON.parse(envLine!) as Record<string, string>;
    expect(env).toMatchObject({
      CUDA_VISIBLE_DEVICES: 'dev1,dev3', NSML_SESSION: 'carol/mnist/2', NSML_SESSION_NAME: 'carol/mnist/2', NSML_RANK: '0',
      NSML_WORLD_SIZE: '1', NSML_GPU_NUM: '2', NSML_DATASET_NAME: 'mnist', NSML_USER: 'carol', NSML_CHECKPOINT_DIR: r.dir.checkpoints,
      NSML_AGENT_SOCKET: r.dir.socket, MASTER_PORT: '29511', RANK: '0', WORLD_SIZE: '1', LOCAL_RANK: '0', PYTHONUNBUFFERED: '1', LR: '0.5',
    });
    expect(env.PYTHONPATH?.split(':')[0]).toBe(join(f.dir, 'sdk'));
    expect(env.NSML_HOME).toBeUndefined();
    expect(JSON.parse(listing!)).toEqual(['data', 'main.py']);
  });
});

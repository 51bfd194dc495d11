import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../common/proto/types.js';
import { createFakeGpuProbe } from '../gpu/fake-probe.js';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { foreignMessage, gpuCheck } from './gpu-check.js';
import type { RankContext, RunnerDeps } from './rank-context.js';
import { Runner } from './runner.js';
import { SessionDir } from './session-dir.js';

const gpu = (index: number, processes: GpuInfo['processes'] = []): GpuInfo => ({ index, uuid: `GPU-${index}`, health: 'ok', utilizationPct: 0, processes });
const probe = createFakeGpuProbe({
  gpus: [
    gpu(0),
    gpu(1, [{ pid: 4242, name: 'python3', usedMemoryMib: 1200, session: '' }]),
    gpu(2, [{ pid: 77, name: 'train.py', usedMemoryMib: 10, session: 'bob/scratch/3' }]),
    gpu(3, [{ pid: 5, name: 'Xorg', usedMemoryMib: 0, session: '' }, { pid: 6, name: '', usedMemoryMib: 0, session: '' }]),
  ],
});

describe('gpuCheck', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  function context(gpuIndices: number[], deps: Partial<RunnerDeps>): RankContext {
    f = new RunnerFixture();
    return {
      spec: f.spec({ workspace: '', gpuIndices }), dir: new SessionDir(join(f.dir, 'rank')),
      deps: f.deps(deps), signal: new AbortController().signal,
    };
  }

  it.each([
    ['a free GPU', [0], undefined],
    ['a GPU used by another nsml session', [2], undefined],
    ['no GPU at all', [], undefined],
    ['a GPU held by a foreign process', [0, 1], 'GPU 1 is held by pid 4242 (python3, 1200 MiB): a process that nsml did not start'],
    ['two foreign processes on one GPU', [3], 'GPU 3 is held by pid 5 (Xorg), pid 6 (unknown): processes that nsml did not start'],
    ['two busy GPUs', [1, 3], 'GPU 1 is held by pid 4242 (python3, 1200 MiB); GPU 3 is held by pid 5 (Xorg), pid 6 (unknown)'],
  ])('%s', async (_name, indices, message) => {
    const ctx = context(indices, { checkGpus: (i) => probe.checkFree(i) });
    const err = await gpuCheck(ctx).then(() => undefined, (e: unknown) => e);
    if (message === undefined) expect(err).toBeUndefined();
    else expect(err).toMatchObject({ code: 'NSML_E_GPU_BUSY', message: expect.stringContaining(message) });
  });

  it('starts anyway when the check itself fails, and checks nothing without a checker', async () => {
    const warned: string[] = [];
    const ctx = context([1], { checkGpus: async () => ({ foreign: [], error: 'cannot list GPU processes: NVML' }) });
    ctx.deps.logger = { ...ctx.deps.logger, warn: (msg: string) => void warned.push(msg) };
    await expect(gpuCheck(ctx)).resolves.toBeUndefined();
    expect(warned).toHaveLength(1);
    f.cleanup();
    await expect(gpuCheck(context([1], { checkGpus: undefined }))).resolves.toBeUndefined();
  });

  it('says what to do', () => {
    expect(foreignMessage([{ index: 1, uuid: 'GPU-1', pid: 9, name: 'x' }])).toMatch(/nsml agent --gpus/);
  });
});

describe('Runner with a GPU held by a foreign process', () => {
  it('fails the rank to start, naming the GPU and the holder', async () => {
    const f = new RunnerFixture();
    const runner = Runner.open(f.sessionsDir, f.deps({ checkGpus: (i) => probe.checkFree(i) }));
    try {
      const r = runner.start(f.spec({ workspace: f.workspace({ 'main.py': 'pass\n' }), gpuIndices: [1] }));
      await r.whenDone();
      expect(r.record.phase).toBe('failed_to_start');
      expect(r.record.end?.message).toMatch(/^GPU 1 is held by pid 4242 \(python3, 1200 MiB\)/);
    } finally {
      await runner.stopAll(0, 'test over');
      f.cleanup();
    }
  });
});

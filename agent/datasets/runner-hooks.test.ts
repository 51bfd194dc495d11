import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from '../runner/cleanup.js';
import { materialize } from '../runner/materialize.js';
import { prestart } from '../runner/prestart.js';
import type { RankContext } from '../runner/rank-context.js';
import { SessionDir } from '../runner/session-dir.js';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { DatasetCache } from './dataset-cache.js';

describe('datasets in the rank hooks', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  function context(withCache = true): { ctx: RankContext; cache: DatasetCache | undefined } {
    f = new RunnerFixture();
    const deps = f.deps();
    const cache = withCache ? DatasetCache.open({ dir: join(f.dir, 'datasets'), blobs: deps.cache, budgetBytes: 1 << 30 }) : undefined;
    const data = f.workspace({ 'train/0.txt': 'zero\n', 'train/1.txt': 'one\n' });
    const spec = f.spec({
      session: 'alice/mnist/1', dataset: 'mnist', workspace: f.workspace({ 'main.py': 'pass\n' }),
      datasets: [{ name: 'mnist', version: 2, manifest: data }],
    });
    return { ctx: { spec, dir: new SessionDir(join(f.dir, 'rank')), deps: { ...deps, ...(cache ? { datasets: cache } : {}) }, signal: new AbortController().signal }, cache };
  }

  it('materialize mounts the pinned versions, prestart points DATASET_PATH at them, cleanup removes them', async () => {
    const { ctx, cache } = context();
    await materialize(ctx);
    const launch = await prestart(ctx);
    const path = join(ctx.dir.root, 'datasets', 'mnist');
    expect(launch.env).toMatchObject({ NSML_DATASET_PATH: path, DATASET_PATH: path, NSML_DATASET_NAME: 'mnist', DATASET_NAME: 'mnist', HAS_DATASET: '1' });
    expect(readFileSync(join(launch.env.DATASET_PATH!, 'train', '1.txt'), 'utf8')).toBe('one\n');
    expect(cache!.status().inUse).toEqual(['mnist@2']);
    await cleanup(ctx);
    expect(existsSync(path)).toBe(false);
    expect(cache!.status().inUse).toEqual([]);
    expect(cache!.held()).toEqual(['mnist@2']);
  });

  it('fails the rank clearly when the agent has no dataset cache', async () => {
    const { ctx } = context(false);
    await expect(materialize(ctx)).rejects.toMatchObject({ code: 'NSML_E_SPAWN_FAILED', message: expect.stringContaining('mounts mnist') });
  });
});

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { materialize } from './materialize.js';
import { prestart } from './prestart.js';
import type { RankContext } from './rank-context.js';
import { SessionDir } from './session-dir.js';

describe('prestart', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  async function prepared(files: Record<string, string | [string, number]>, entry: string, args: string[] = []): Promise<RankContext> {
    f = new RunnerFixture();
    const c: RankContext = {
      spec: f.spec({ workspace: f.workspace(files), entry, args }),
      dir: new SessionDir(join(f.dir, 'rank')), deps: f.deps(), signal: new AbortController().signal,
    };
    await materialize(c);
    return c;
  }

  it('runs a .py entry with the agent Python, in the workspace, with the session env', async () => {
    const c = await prepared({ 'src/train.py': 'pass\n' }, 'src/train.py', ['--lr', '0.1']);
    const launch = await prestart(c);
    expect(launch.argv).toEqual(['python3', 'src/train.py', '--lr', '0.1']);
    expect(launch.cwd).toBe(c.dir.workspace);
    expect(launch.env.NSML_CHECKPOINT_DIR).toBe(c.dir.checkpoints);
    expect(launch.env.NSML_SESSION).toBe('alice/scratch/1');
  });

  it('runs an executable entry directly', async () => {
    const c = await prepared({ 'run.sh': ['#!/bin/sh\necho hi\n', 0o755] }, 'run.sh');
    expect((await prestart(c)).argv).toEqual([join(c.dir.workspace, 'run.sh')]);
  });

  it.each([
    ['a missing entry', { 'train.py': 'pass\n', 'utils.py': 'pass\n' }, 'main.py', /entry main\.py is not in the workspace \(the workspace holds train\.py, utils\.py\); pass the script to run with -e/],
    ['an empty workspace', {}, 'main.py', /the workspace is empty/],
    ['a folder', { 'main.py/x.py': 'pass\n' }, 'main.py', /not in the workspace/],
    ['a non-executable script', { 'run.sh': ['echo\n', 0o644] }, 'run.sh', /neither a \.py script nor executable/],
  ] as const)('refuses %s with NSML_E_ENTRY_NOT_FOUND', async (_what, files, entry, message) => {
    const c = await prepared(files as Record<string, string | [string, number]>, entry);
    const err = await prestart(c).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NSML_E_ENTRY_NOT_FOUND' });
    expect((err as Error).message).toMatch(message);
  });
});

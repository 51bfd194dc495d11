import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { cleanup, forgetRank } from './cleanup.js';
import { SessionDir } from './session-dir.js';

describe('cleanup', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  it('removes the workspace and keeps the output until the rank is forgotten', async () => {
    f = new RunnerFixture();
    const dir = new SessionDir(join(f.dir, 'rank'));
    mkdirSync(join(dir.workspace, 'sub'), { recursive: true });
    writeFileSync(join(dir.workspace, 'sub', 'f.txt'), 'x');
    writeFileSync(dir.file('output.log'), 'frames');
    const ctx = { spec: f.spec({ workspace: '' }), dir, deps: f.deps(), signal: new AbortController().signal };
    await cleanup(ctx);
    expect(existsSync(dir.workspace)).toBe(false);
    expect(existsSync(dir.file('output.log'))).toBe(true);
    await forgetRank(ctx);
    expect(existsSync(dir.root)).toBe(false);
  });
});

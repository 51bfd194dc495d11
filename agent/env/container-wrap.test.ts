import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture } from '../testing/runner-fixture.js';
import type { Launch, RankContext } from '../runner/rank-context.js';
import { SessionDir } from '../runner/session-dir.js';
import { wrapInContainer } from './container-wrap.js';

describe('wrapInContainer', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  it("runs the same command in the image with the rank's folders at the same paths and the env passed by name", () => {
    f = new RunnerFixture();
    const dir = new SessionDir(join(f.sessionsDir, 'alice+scratch+1+e1+r0'));
    const ctx: RankContext = { spec: f.spec({ workspace: '', gpuIndices: [1], memoryMib: 4096, shmSizeMib: 1024 }), dir, deps: f.deps(), signal: new AbortController().signal };
    const launch: Launch = {
      argv: ['python3', 'main.py'], cwd: dir.workspace,
      env: { PATH: '/usr/bin', NSML_SESSION: 'alice/scratch/1', CUDA_VISIBLE_DEVICES: '1', NSML_NFS_OUTPUT: '/data/nfs-output/alice/scratch/1' },
      user: { name: 'nsml-alice', uid: 2001, gid: 2001 },
    };
    const out = wrapInContainer(ctx, launch, { kind: 'podman', path: '/usr/bin/podman' }, 'localhost/py:1');
    expect(out.user).toBeUndefined(); // the runtime runs as root; the command as --user
    expect(out.env.CUDA_VISIBLE_DEVICES).toBe('0');
    expect(out.argv.slice(0, 2)).toEqual(['/usr/bin/podman', 'run']);
    expect(out.argv).toEqual(expect.arrayContaining(['-v', `${dir.root}:${dir.root}`, '-v', `${f.dir}/sdk:${f.dir}/sdk:ro`, '-v', '/data/nfs-output/alice/scratch/1:/data/nfs-output/alice/scratch/1']));
    expect(out.argv).toEqual(expect.arrayContaining(['-e', 'NSML_SESSION', '-e', 'CUDA_VISIBLE_DEVICES', '--user', '2001:2001', '--memory', '4096m', '--shm-size', '1024m', '--device', 'nvidia.com/gpu=1']));
    expect(out.argv).not.toContain('PATH');
    expect(out.argv.slice(-3)).toEqual(['localhost/py:1', 'python3', 'main.py']);
  });
});

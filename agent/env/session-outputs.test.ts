import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareSessionOutputs, sessionOutputPaths } from './session-outputs.js';

describe('session outputs', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([
    ['alice/mnist/3', '/d/nfs-output/alice/mnist/3', '/d/cache/alice'],
    ['bob/scratch/12', '/d/nfs-output/bob/scratch/12', '/d/cache/bob'],
  ])('%s gets %s and %s', (session, nfs, cache) => {
    expect(sessionOutputPaths('/d', session)).toEqual({ nfsOutput: nfs, cacheDir: cache });
  });

  it('makes both folders, which a later session of the same name finds as they were left', async () => {
    const d = mkdtempSync(join(tmpdir(), 'nsml-out-'));
    dirs.push(d);
    const env = await prepareSessionOutputs(d, 'alice/mnist/3', undefined);
    expect(env).toEqual({ NSML_NFS_OUTPUT: join(d, 'nfs-output/alice/mnist/3'), NSML_CACHE_DIR: join(d, 'cache/alice') });
    writeFileSync(join(env.NSML_NFS_OUTPUT!, 'result.txt'), 'kept');
    await prepareSessionOutputs(d, 'alice/mnist/3', undefined);
    expect(statSync(join(env.NSML_NFS_OUTPUT!, 'result.txt')).size).toBe(4);
  });

  it.runIf(process.getuid?.() === 0)("gives them to the session's account when it runs apart", async () => {
    const d = mkdtempSync(join(tmpdir(), 'nsml-out-'));
    dirs.push(d);
    const env = await prepareSessionOutputs(d, 'alice/mnist/3', { name: 'nobody', uid: 65534, gid: 65534 });
    expect(statSync(env.NSML_NFS_OUTPUT!).uid).toBe(65534);
    expect(statSync(env.NSML_CACHE_DIR!).uid).toBe(65534);
    expect(statSync(join(d, 'nfs-output')).uid).toBe(0);
  });
});

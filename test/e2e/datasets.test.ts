import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/** Reads DATASET_PATH/train/... the way NSML scripts do, and prints what it sees. */
const READER = `import os
paths = os.environ['DATASET_PATH'].split(os.pathsep)
names = os.environ['DATASET_NAME'].split(os.pathsep)
print('HAS_DATASET', os.environ['HAS_DATASET'], 'NAMES', ','.join(names))
print('SAME', os.environ['NSML_DATASET_PATH'] == os.environ['DATASET_PATH'])
for name, path in zip(names, paths):
    train = os.path.join(path, 'train')
    for f in sorted(os.listdir(train)):
        print(name, f, open(os.path.join(train, f)).read().strip())
    print(name, 'writable', os.access(path, os.W_OK) and os.geteuid() != 0)
`;

describe('datasets end to end', () => {
  let cluster: TestCluster;
  let mnist: string;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 2 });
    mnist = join(cluster.dir, 'mnist-data');
    for (const [rel, text] of Object.entries({ 'train/0.txt': 'zero', 'train/1.txt': 'one', 'test/2.txt': 'two' })) {
      mkdirSync(dirname(join(mnist, rel)), { recursive: true });
      writeFileSync(join(mnist, rel), text);
    }
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('pushes a directory as NAME@1; a re-push sends 0 bytes; ls, fs and pull show it', async () => {
    const pushed = await cluster.nsml(['dataset', 'push', 'mnist', mnist, '-m', 'digits']);
    expect(pushed.exitCode).toBe(0);
    expect(pushed.stdout).toBe('mnist@1');
    const again = await cluster.nsmlJson<{ ref: string; created: boolean; sentBytes: number }>(['dataset', 'push', 'mnist', mnist]);
    expect(again).toMatchObject({ ref: 'mnist@1', created: false, sentBytes: 0 });
    const ls = await cluster.nsmlJson<Array<Record<string, unknown>>>(['dataset', 'ls']);
    expect(ls).toEqual([expect.objectContaining({ name: 'mnist', version: 1, files: 3, size: 10, owner: 'e2e', description: 'digits' })]);
    const fs = await cluster.nsml(['dataset', 'fs', 'mnist@1']);
    expect(fs.stdout).toMatch(/test\/2\.txt\n.*train\/0\.txt\n.*train\/1\.txt$/);
    const dest = join(cluster.dir, 'pulled');
    expect((await cluster.nsml(['dataset', 'pull', 'mnist', dest])).exitCode).toBe(0);
    expect(readFileSync(join(dest, 'train', '1.txt'), 'utf8')).toBe('one');
    const busy = await cluster.nsml(['dataset', 'pull', 'mnist', dest]);
    expect(busy.stderr).toContain('NSML_E_DESTINATION_NOT_EMPTY');
  });

  it('mounts the pinned versions for `nsml run -d`, where the script reads DATASET_PATH/train', async () => {
    const cifar = makeWorkspace({ 'train/x.txt': 'ex' }, cluster.dir);
    expect((await cluster.nsml(['dataset', 'push', 'cifar', cifar])).exitCode).toBe(0);
    const ws = makeWorkspace({ 'main.py': READER }, cluster.dir);
    const one = await cluster.nsml(['run', '-d', 'mnist'], { cwd: ws });
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toContain('HAS_DATASET 1 NAMES mnist');
    expect(one.stdout).toContain('SAME True');
    expect(one.stdout).toContain('mnist 0.txt zero');
    expect(one.stdout).toContain('mnist 1.txt one');
    expect(one.stdout).not.toContain('writable True');
    const two = await cluster.nsml(['run', '-d', 'cifar,mnist@1', '--json'], { cwd: ws });
    const result = JSON.parse(two.stdout) as { name: string; state: string; session: { datasets: string[] } };
    expect(result).toMatchObject({ name: expect.stringMatching(/^e2e\/cifar\/\d+$/), state: 'succeeded', session: { datasets: ['cifar@1', 'mnist@1'] } });
    expect(two.stderr).toContain('NAMES cifar,mnist');
    expect(two.stderr).toContain('cifar x.txt ex');
  });

  it('keeps a private dataset from another user', async () => {
    const data = makeWorkspace({ 'train/a.txt': 'secret' }, cluster.dir);
    expect((await cluster.nsml(['dataset', 'push', 'faces', data, '--private'])).exitCode).toBe(0);
    const bob = cluster.asUser('bob');
    expect(await cluster.nsmlJson<unknown[]>(['dataset', 'ls'], { env: bob })).not.toContainEqual(expect.objectContaining({ name: 'faces' }));
    const ws = makeWorkspace({ 'main.py': READER }, cluster.dir);
    for (const args of [['dataset', 'fs', 'faces'], ['dataset', 'pull', 'faces', join(cluster.dir, 'stolen')], ['run', '--detach', '-d', 'faces']]) {
      const r = await cluster.nsml(args, { env: bob, cwd: ws });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain('NSML_E_PERMISSION_DENIED');
    }
    expect(readdirSync(cluster.dir)).not.toContain('stolen');
  });

  it('refuses to remove a version that a running session uses, then removes it once it ended', async () => {
    const ws = makeWorkspace({ 'main.py': 'import time\nprint("started", flush=True)\ntime.sleep(60)\n' }, cluster.dir);
    const run = await cluster.nsmlJson<{ name: string }>(['run', '--detach', '-d', 'mnist'], { cwd: ws });
    await cluster.waitFor(async () => (await cluster.nsmlJson<Array<{ name: string; state: string }>>(['ps'])).some((s) => s.name === run.name && s.state === 'running'), 'the session to run');
    const refused = await cluster.nsml(['dataset', 'rm', 'mnist@1']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`NSML_E_DATASET_IN_USE: .*${run.name} \\(running`));
    expect((await cluster.nsml(['stop', run.name])).exitCode).toBe(0);
    await cluster.nsml(['wait', run.name]);
    expect((await cluster.nsml(['dataset', 'rm', 'mnist'])).stdout).toBe('removed mnist@1');
    expect((await cluster.nsml(['dataset', 'fs', 'mnist'])).stderr).toContain('NSML_E_DATASET_NOT_FOUND');
  });

  it.each([
    [['dataset', 'push', 'My_Data', '.'], 'NSML_E_INVALID_NAME', 'lowercase letters, digits, "-" and "_", at most 64 characters'],
    [['dataset', 'push', 'a'.repeat(65), '.'], 'NSML_E_INVALID_NAME', 'at most 64 characters'],
    [['dataset', 'push', 'ok', 'no-such-dir'], 'NSML_E_NOT_FOUND', 'does not exist'],
    [['run', '--detach', '-d', 'has space'], 'NSML_E_INVALID_NAME', 'lowercase letters'],
    [['run', '--detach', '-d', 'missing'], 'NSML_E_DATASET_NOT_FOUND', 'nsml dataset push missing DIR'],
  ])('nsml %j fails with %s', async (args, code, text) => {
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' }, cluster.dir);
    const r = await cluster.nsml(args, { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toContain(text);
  });
});

import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

describe('bad input gets a clear error and leaves nothing behind', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 2 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function sessionCount(): Promise<number> {
    return (await cluster.nsmlJson<unknown[]>(['ps', '-a'])).length;
  }

  it.each([
    [['logs', 'e2e/scratch/999'], 'NSML_E_SESSION_NOT_FOUND'],
    [['stop', 'e2e/scratch/999'], 'NSML_E_SESSION_NOT_FOUND'],
    [['wait', 'e2e/scratch/999'], 'NSML_E_SESSION_NOT_FOUND'],
    [['logs', '../etc/1'], 'NSML_E_INVALID_NAME'],
    [['stop', 'e2e//1'], 'NSML_E_INVALID_NAME'],
    [['wait', 'e2e/scratch/1\u0007'], 'NSML_E_INVALID_NAME'],
  ])('nsml %j fails with %s', async (args, code) => {
    const r = await cluster.nsml(args);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(code);
  });

  it('refuses a missing entry file before uploading anything', async () => {
    const before = await sessionCount();
    const ws = makeWorkspace({ 'train.py': 'print(1)\n' });
    const r = await cluster.nsml(['run', '--detach', '-e', 'main.py'], { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_ENTRY_NOT_FOUND');
    expect(r.stderr).toContain('main.py');
    expect(await sessionCount()).toBe(before);
  });

  it('rejects at submit a request for more GPUs than the cluster can ever give, naming the largest that fits', async () => {
    const before = await sessionCount();
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' });
    const r = await cluster.nsml(['run', '--detach', '-g', '64'], { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_UNSATISFIABLE');
    expect(r.stderr).toMatch(/largest request that fits is \d+ GPU/);
    expect(await sessionCount()).toBe(before);
  });

  it('rejects at submit a memory request no node can hold, naming the largest that fits', async () => {
    const before = await sessionCount();
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' });
    const r = await cluster.nsml(['run', '--detach', '--memory', '1024T'], { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_UNSATISFIABLE');
    expect(r.stderr).toMatch(/largest request that fits is \d+ MiB \(nsml run --memory \d+M\)/);
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a workspace with a symlink that leaves it, naming the link', async () => {
    const before = await sessionCount();
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' });
    mkdirSync(join(ws, 'data'));
    symlinkSync('/etc/passwd', join(ws, 'data', 'secrets'));
    const r = await cluster.nsml(['run', '--detach'], { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_WORKSPACE_SYMLINK_ESCAPES');
    expect(r.stderr).toContain('data/secrets');
    expect(await sessionCount()).toBe(before);
  });

  it('rejects an invalid dataset name with the rule', async () => {
    const ws = makeWorkspace({ 'main.py': 'print(1)\n' });
    const r = await cluster.nsml(['run', '--detach', '-d', '../Up'], { cwd: ws });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_INVALID_NAME');
  });

  it('says the coordinator is unreachable within the deadline instead of hanging', async () => {
    const started = Date.now();
    const r = await cluster.nsml(['ps'], { env: { NSML_COORDINATOR: '127.0.0.1:1' }, timeoutMs: 30_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('NSML_E_COORDINATOR_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

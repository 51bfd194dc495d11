import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/**
 * Users as a research group meets them on a cluster, through the real CLI: the admin adds bob,
 * bob logs in with the token he was given, runs a session, shares it with carol, and revokes a
 * token; nobody without a token reads anything, and NSML_USER names nobody.
 */
describe('users, tokens and sharing through the CLI', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start({ agents: 1 });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  const noToken = { NSML_TOKEN: '' };

  it('the admin adds bob; bob logs in with the token, kept in a file only he can read', async () => {
    const add = await c.nsml(['user', 'add', 'bob']);
    expect(add.exitCode, add.stderr).toBe(0);
    const token = add.stdout.trim().split('\n').pop()!;
    expect(token).toMatch(/^nsmlu_[0-9A-Za-z]{36}$/);
    const home = join(c.dir, 'bob-home');
    const file = join(c.dir, 'bob-token');
    writeFileSync(file, token + '\n', { mode: 0o600 });
    const bob = { ...noToken, NSML_HOME: home };
    const login = await c.nsml(['login', '--coordinator', c.address, '--token-file', file], { env: bob });
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout).toContain('as bob');
    const who = await c.nsml(['whoami'], { env: bob });
    expect(who.stdout.trim()).toBe('bob');
    const { statSync } = await import('node:fs');
    expect(statSync(join(home, 'credentials')).mode & 0o777).toBe(0o600);
  });

  it('refuses every call without a token, and NSML_USER names nobody', async () => {
    for (const args of [['ps', '-a'], ['node', 'ls'], ['dataset', 'ls'], ['whoami']]) {
      const r = await c.nsml(args, { env: { ...noToken, NSML_USER: 'e2e', NSML_HOME: join(c.dir, 'nobody') } });
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(r.stderr).toContain('NSML_E_UNAUTHENTICATED');
      expect(r.stderr).toContain('NSML_USER is ignored');
    }
    const forged = await c.nsml(['ps'], { env: { NSML_TOKEN: 'nsmlu_' + 'A'.repeat(36) } });
    expect(forged.stderr).toContain('NSML_E_UNAUTHENTICATED');
  });

  it('a session is bob\'s alone until he shares it; a read share cannot stop it, a control share can', async () => {
    const bob = c.asUser('bob');
    const carol = c.asUser('carol');
    const ws = makeWorkspace({ 'main.py': 'import time\nprint("bob secret 42", flush=True)\ntime.sleep(60)\n' }, c.dir);
    const run = await c.nsml(['run', '--detach', '--json', '-e', 'main.py'], { cwd: ws, env: bob });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    expect(name).toMatch(/^bob\/scratch\/\d+$/);
    const hidden = await c.nsml(['logs', name], { env: carol });
    expect(hidden.stderr).toContain('NSML_E_SESSION_NOT_FOUND');
    expect(hidden.stdout).not.toContain('bob secret');
    expect((await c.nsmlJson<Array<{ name: string }>>(['ps', '-a', '--all-users'], { env: carol })).map((s) => s.name)).not.toContain(name);

    expect((await c.nsml(['share', name, 'carol'], { env: bob })).exitCode).toBe(0);
    expect((await c.nsmlJson<Array<{ name: string }>>(['ps', '-a', '--all-users'], { env: carol })).map((s) => s.name)).toContain(name);
    await c.waitFor(async () => (await c.nsml(['logs', name], { env: carol })).stdout.includes('bob secret 42'), 'carol to read the shared log');
    const stop = await c.nsml(['stop', name], { env: carol });
    expect(stop.stderr).toContain('NSML_E_PERMISSION_DENIED');

    expect((await c.nsml(['share', name, 'carol', '--control'], { env: bob })).exitCode).toBe(0);
    const stopped = await c.nsml(['stop', name, '--grace', '1s'], { env: carol });
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect((await c.nsml(['share', name, 'carol', '--revoke'], { env: bob })).exitCode).toBe(0);
    expect((await c.nsml(['logs', name], { env: carol })).stderr).toContain('NSML_E_SESSION_NOT_FOUND');
  });

  it('a revoked token stops working at its next call; tokens are listed without the token', async () => {
    const created = await c.nsml(['token', 'create', '--label', 'ci', '--json'], { env: c.asUser('bob') });
    expect(created.exitCode, created.stderr).toBe(0);
    const { token, info } = JSON.parse(created.stdout) as { token: string; info: { id: string } };
    const ci = { NSML_TOKEN: token };
    expect((await c.nsml(['whoami'], { env: ci })).stdout.trim()).toBe('bob');
    const ls = await c.nsml(['token', 'ls'], { env: c.asUser('bob') });
    expect(ls.stdout).toContain(info.id);
    expect(ls.stdout).not.toContain(token);
    expect((await c.nsml(['token', 'revoke', info.id], { env: c.asUser('bob') })).exitCode).toBe(0);
    const after = await c.nsml(['whoami'], { env: ci });
    expect(after.stderr).toContain('NSML_E_UNAUTHENTICATED');
    expect(after.stderr).toContain('revoked');
    expect(after.stderr).toContain('the token came from NSML_TOKEN');
    const zero = await c.nsml(['token', 'create', '--expires', '0s'], { env: c.asUser('bob') });
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--expires must be longer than 0');
  });

  it('admin-only commands are refused to a user', async () => {
    for (const args of [['user', 'add', 'mallory'], ['user', 'ls'], ['node', 'drain', 'node1'], ['admin', 'gc', '--dry-run']]) {
      const r = await c.nsml(args, { env: c.asUser('bob') });
      expect(r.stderr, args.join(' ')).toContain('NSML_E_PERMISSION_DENIED');
    }
  });
});

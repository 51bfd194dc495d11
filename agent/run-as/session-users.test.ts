import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { FakeAccounts } from './accounts.js';
import { RunAsPolicy, accountComment } from './session-users.js';

const dir = mkdtempSync(join(tmpdir(), 'nsml-runas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usersFile(text: string): string {
  const path = join(dir, `users-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  chmodSync(path, 0o644);
  return path;
}

describe('RunAsPolicy accounts (the default)', () => {
  it('creates one account per user at its first session, and reuses it', async () => {
    const tool = new FakeAccounts();
    const policy = await RunAsPolicy.open({ mode: 'accounts' }, silentLogger, tool);
    const [a1, a2, b] = await Promise.all([policy.resolve('alice'), policy.resolve('alice'), policy.resolve('Bob')]);
    expect(a1).toEqual(a2);
    expect(a1.name).toBe('nsml-alice');
    expect(b.name).toMatch(/^nsml-bob_[0-9a-f]{12}$/);
    expect(a1.uid).not.toBe(b.uid);
    expect(tool.created.sort()).toEqual([a1.name, b.name].sort());
    expect(tool.accounts.get('nsml-alice')?.comment).toBe(accountComment('alice'));
  });

  it('refuses an account of that name that nsml did not create', async () => {
    const tool = new FakeAccounts().add({ name: 'nsml-alice', uid: 1500, gid: 1500, comment: 'Alice Smith' });
    const policy = await RunAsPolicy.open({ mode: 'accounts' }, silentLogger, tool);
    await expect(policy.resolve('alice')).rejects.toThrow(/the account nsml-alice exists but was not created by nsml for alice \(its comment is "Alice Smith"/);
  });

  it('never resolves to root', async () => {
    const tool = new FakeAccounts().add({ name: 'nsml-alice', uid: 0, gid: 0, comment: accountComment('alice') });
    const policy = await RunAsPolicy.open({ mode: 'accounts' }, silentLogger, tool);
    await expect(policy.resolve('alice')).rejects.toThrow(/user code never runs as root/);
  });
});

describe('RunAsPolicy file (--run-as)', () => {
  const tool = new FakeAccounts()
    .add({ name: 'alice', uid: 1001, gid: 1001, comment: '' })
    .add({ name: 'svc', uid: 1002, gid: 100, comment: '' })
    .add({ name: 'toor', uid: 0, gid: 0, comment: '' });

  it('maps users to the accounts named, and refuses users without a line', async () => {
    const policy = await RunAsPolicy.open({ mode: 'file', path: usersFile('alice alice\nbob svc\n') }, silentLogger, tool);
    expect(await policy.resolve('alice')).toEqual({ name: 'alice', uid: 1001, gid: 1001 });
    expect(await policy.resolve('bob')).toEqual({ name: 'svc', uid: 1002, gid: 100 });
    await expect(policy.resolve('carol')).rejects.toMatchObject({ code: 'NSML_E_PERMISSION_DENIED', message: expect.stringMatching(/nsml user carol has no account on this node; .* adds a line "carol ACCOUNT"/) });
    expect(tool.created).toEqual([]);
  });

  it('refuses at start a mapping to an account with uid 0', async () => {
    await expect(RunAsPolicy.open({ mode: 'file', path: usersFile('alice toor\n') }, silentLogger, tool)).rejects.toThrow(/is toor \(uid 0, gid 0\); user code never runs as root/);
  });

  it('says which account is missing when a session starts', async () => {
    const policy = await RunAsPolicy.open({ mode: 'file', path: usersFile('dave dave\n') }, silentLogger, tool);
    await expect(policy.resolve('dave')).rejects.toThrow(/the account dave that .* names for dave does not exist on this node/);
  });
});

describe('RunAsPolicy user (--run-as-user)', () => {
  const tool = new FakeAccounts().add({ name: 'nobody', uid: 65534, gid: 65534, comment: 'nobody' });

  it('runs everyone as the one account', async () => {
    const policy = await RunAsPolicy.open({ mode: 'user', name: 'nobody' }, silentLogger, tool);
    expect(await policy.resolve('alice')).toEqual({ name: 'nobody', uid: 65534, gid: 65534 });
    expect(await policy.resolve('bob')).toEqual({ name: 'nobody', uid: 65534, gid: 65534 });
  });

  it('refuses at start an account that does not exist', async () => {
    await expect(RunAsPolicy.open({ mode: 'user', name: 'ghost' }, silentLogger, tool)).rejects.toThrow(/--run-as-user ghost: no such account on this node/);
  });
});

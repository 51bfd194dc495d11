import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo } from '../io.js';
import { joinTokenOf, runAsOption, usersServiceArgs } from './agent-users.js';

const ROOT = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'nsml-agent-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const io = (env: Record<string, string> = {}) => captureIo({ cwd: dir, env: { ...env } });

describe('runAsOption', () => {
  it.each([
    [{ 'run-as': 'users' }, {}, { mode: 'file', path: join(dir, 'users') }],
    [{ 'run-as-user': 'nobody' }, {}, { mode: 'user', name: 'nobody' }],
    [{ 'run-as-user': 'nobody' }, { NSML_AGENT_ISOLATION: 'none' }, { mode: 'user', name: 'nobody' }],
    [{ isolation: 'none' }, {}, { mode: 'none' }],
    [{ isolation: 'users' }, {}, { mode: 'accounts' }],
    [{}, { NSML_AGENT_ISOLATION: 'none' }, { mode: 'none' }],
    [{ isolation: 'users' }, { NSML_AGENT_ISOLATION: 'none' }, { mode: 'accounts' }],
    [{}, {}, ROOT ? { mode: 'accounts' } : { mode: 'none' }],
  ])('%j with %j → %j', (values, env, option) => expect(runAsOption(values, io(env))).toEqual(option));

  it.each([
    [{ isolation: 'some' }, /--isolation must be "users" or "none"; got "some"/],
    [{ 'run-as': 'f', 'run-as-user': 'u' }, /give --run-as FILE or --run-as-user NAME, not both/],
    [{ 'run-as': 'f', isolation: 'none' }, /--isolation none runs sessions as the agent's own user; it cannot go with --run-as/],
  ])('refuses %j', (values, message) => expect(() => runAsOption(values, io())).toThrow(message));

  it('writes the same flags into a unit', () => {
    expect(usersServiceArgs({ 'run-as': 'users', isolation: 'users' }, io())).toEqual(['--run-as', join(dir, 'users'), '--isolation', 'users']);
  });
});

describe('joinTokenOf', () => {
  it('reads --join-token-file, and removes NSML_JOIN_TOKEN from the environment children get', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    chmodSync(file, 0o600);
    const cli = io({ NSML_JOIN_TOKEN: 'from-env' });
    process.env.NSML_JOIN_TOKEN = 'from-env';
    expect(joinTokenOf({ 'join-token-file': 'token' }, cli)).toBe('from-file');
    expect(cli.env.NSML_JOIN_TOKEN).toBeUndefined();
    expect(process.env.NSML_JOIN_TOKEN).toBeUndefined();
    expect(cli.stderr()).toBe('');
  });

  it('still takes --join-token and NSML_JOIN_TOKEN, warning that /proc shows them', () => {
    const flag = io();
    expect(joinTokenOf({ 'join-token': 't' }, flag)).toBe('t');
    expect(flag.stderr()).toMatch(/--join-token is visible to every user of this machine in \/proc\/PID\/cmdline; .* --join-token-file/);
    const env = io({ NSML_JOIN_TOKEN: 'e' });
    expect(joinTokenOf({}, env)).toBe('e');
    expect(env.stderr()).toMatch(/NSML_JOIN_TOKEN stays readable in \/proc\/PID\/environ/);
    expect(env.env.NSML_JOIN_TOKEN).toBeUndefined();
  });

  it('refuses a token file others may read', () => {
    const file = join(dir, 'open-token');
    writeFileSync(file, 't\n');
    chmodSync(file, 0o644);
    expect(() => joinTokenOf({ 'join-token-file': file }, io())).toThrow(/may be read or written by others \(mode 644\); run chmod 600/);
  });
});

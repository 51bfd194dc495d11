import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { parsePasswdLine, systemAccounts } from './accounts.js';
import { RunAsPolicy } from './session-users.js';

const CAN_ADD_USERS = process.getuid?.() === 0 && spawnSync('useradd', ['--help']).status === 0;

describe('parsePasswdLine', () => {
  it.each([
    ['nsml-alice:x:998:997:nsml user alice:/nonexistent:/usr/sbin/nologin', { name: 'nsml-alice', uid: 998, gid: 997, comment: 'nsml user alice' }],
    ['nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n', { name: 'nobody', uid: 65534, gid: 65534, comment: 'nobody' }],
    ['broken:x::1:::', undefined],
    ['short:x:1', undefined],
  ])('%j', (line, account) => expect(parsePasswdLine(line)).toEqual(account));
});

describe.skipIf(!CAN_ADD_USERS)('accounts the agent creates (real useradd, as root)', () => {
  const prefix = `nsmlt${randomBytes(3).toString('hex')}-`;
  const made: string[] = [];
  afterAll(() => {
    for (const name of made) spawnSync('userdel', [name]);
  });

  it('creates a system account with its own group, no home and no shell, once, even when asked twice at once', async () => {
    const policy = await RunAsPolicy.open({ mode: 'accounts', prefix }, silentLogger);
    const [a, b] = await Promise.all([policy.resolve('alice'), policy.resolve('alice')]);
    made.push(a.name);
    expect(a).toEqual(b);
    expect(a.name).toBe(`${prefix}alice`);
    const line = execFileSync('getent', ['passwd', a.name], { encoding: 'utf8' }).trim().split(':');
    expect(line.slice(4)).toEqual(['nsml user alice', '/nonexistent', expect.stringMatching(/nologin|false/)]);
    expect(execFileSync('getent', ['group', String(a.gid)], { encoding: 'utf8' })).toMatch(new RegExp(`^${a.name}:`));
    expect(a.uid).toBeGreaterThan(0);
    // A second agent finds and reuses it.
    const again = await (await RunAsPolicy.open({ mode: 'accounts', prefix }, silentLogger)).resolve('alice');
    expect(again).toEqual(a);
  });

  it('looks up an account that does not exist as undefined', async () => {
    expect(await systemAccounts.lookup(`${prefix}nobody-here`)).toBeUndefined();
  });
});

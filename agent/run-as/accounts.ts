import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import type { RunAsUser } from './run-as-user.js';

/** An account as the system's user database knows it. */
export interface Account extends RunAsUser {
  /** The GECOS field: accounts the agent creates say `nsml user NAME` there. */
  comment: string;
}

/** The system's user database, as the agent uses it (real: getent and useradd; tests: a fake). */
export interface AccountTool {
  lookup(name: string): Promise<Account | undefined>;
  /** Creates a system account with its own group, no home, no login shell. Resolves when it exists (made by this call or another). */
  create(name: string, comment: string): Promise<void>;
}

/** useradd's exit status when the name is taken (another agent or test made it first). */
const USERADD_NAME_IN_USE = 9;
/** How often a useradd that found the password files locked by another process is retried. */
const LOCK_RETRIES = 20;

/** `name:x:uid:gid:comment:home:shell` → the account. */
export function parsePasswdLine(line: string): Account | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || f[2] === '' || f[3] === '') return undefined;
  return { name: f[0]!, uid, gid, comment: f[4]! };
}

function nologinShell(): string {
  return ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false'].find((p) => existsSync(p)) ?? '/bin/false';
}

/** getent (so LDAP and other NSS accounts are found) and useradd. */
export const systemAccounts: AccountTool = {
  async lookup(name) {
    const r = await execa('getent', ['passwd', name], { reject: false, timeout: 10_000 });
    if (r.exitCode === 2) return undefined;
    if (r.exitCode !== 0) {
      throw new NsmlError(ErrorCodes.SPAWN_FAILED, `cannot look up the account ${name}: getent exited ${r.exitCode ?? r.signal}: ${String(r.stderr).trim() || String(r.message)}`);
    }
    return parsePasswdLine(String(r.stdout).split('\n')[0] ?? '');
  },
  async create(name, comment) {
    const args = ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', nologinShell(), '--comment', comment, name];
    for (let attempt = 0; ; attempt += 1) {
      const r = await execa('useradd', args, { reject: false, timeout: 30_000 });
      if (r.exitCode === 0 || r.exitCode === USERADD_NAME_IN_USE) return;
      const why = String(r.stderr).trim() || String(r.message);
      if (/lock/i.test(why) && attempt < LOCK_RETRIES) {
        await sleep(50 + Math.floor(Math.random() * 200));
        continue;
      }
      throw new NsmlError(ErrorCodes.SPAWN_FAILED, `cannot create the account ${name} for the sessions of an nsml user (useradd ${args.join(' ')}: ${why}); ` +
        'create it by hand, or map users to existing accounts with nsml agent --run-as FILE or --run-as-user NAME');
    }
  },
};

/** An in-memory user database for tests: uids from 20000. */
export class FakeAccounts implements AccountTool {
  readonly accounts = new Map<string, Account>();
  created: string[] = [];
  private nextUid = 20_000;

  add(account: Account): this {
    this.accounts.set(account.name, account);
    return this;
  }

  async lookup(name: string): Promise<Account | undefined> {
    return this.accounts.get(name);
  }

  async create(name: string, comment: string): Promise<void> {
    if (this.accounts.has(name)) return;
    const uid = this.nextUid++;
    this.accounts.set(name, { name, uid, gid: uid, comment });
    this.created.push(name);
  }
}

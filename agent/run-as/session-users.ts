import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { accountNameFor, ACCOUNT_PREFIX } from './account-name.js';
import { systemAccounts, type Account, type AccountTool } from './accounts.js';
import type { RunAsUser, SessionUsers } from './run-as-user.js';
import { readUsersFile } from './users-file.js';

/**
 * Whose uid runs each session (`nsml agent --run-as FILE | --run-as-user NAME`, or the default):
 *
 * - `accounts`: one account per nsml user, created by the agent at its first session here
 *   (`nsml-<user>`, see account-name.ts), a system account with its own group, no home, no shell;
 * - `file`: the users file's `NSMLUSER UNIXUSER` lines; a user without a line cannot run here;
 * - `user`: everyone as one account (e.g. `nobody`): sessions are kept from the agent and its
 *   data, not from each other;
 * - `none`: as the agent's own user (`--isolation none`; the only choice when not root).
 */
export type RunAsOption =
  | { mode: 'accounts'; prefix?: string }
  | { mode: 'file'; path: string }
  | { mode: 'user'; name: string }
  | { mode: 'none' };

/** The comment of an account the agent created for nsml user `user`. */
export function accountComment(user: string): string {
  return `nsml user ${user}`;
}

function neverRoot(account: Account, why: string): RunAsUser {
  if (account.uid === 0 || account.gid === 0) {
    throw new NsmlError(ErrorCodes.CONFIG, `${why} is ${account.name} (uid ${account.uid}, gid ${account.gid}); user code never runs as root or with the root group: map it to an unprivileged account`);
  }
  return { name: account.name, uid: account.uid, gid: account.gid };
}

/** The run-as policy of an agent running as root: resolves nsml users to accounts, once each. */
export class RunAsPolicy implements SessionUsers {
  private readonly resolved = new Map<string, Promise<RunAsUser>>();
  /** Account creation is serialized: useradd locks the password files. */
  private creating: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly option: Exclude<RunAsOption, { mode: 'none' }>,
    private readonly tool: AccountTool,
    private readonly map: Map<string, string> | undefined,
    private readonly single: RunAsUser | undefined,
    private readonly logger: Logger,
  ) {}

  /** Checks the option now (the file is read, the one account looked up), so a mistake stops the agent at start. */
  static async open(option: Exclude<RunAsOption, { mode: 'none' }>, logger: Logger, tool: AccountTool = systemAccounts): Promise<RunAsPolicy> {
    if (option.mode === 'file') {
      const map = readUsersFile(option.path);
      for (const [user, name] of map) {
        const account = await tool.lookup(name);
        if (!account) logger.warn('an account of the users file does not exist (yet); its sessions fail to start until it does', { user, account: name, file: option.path });
        else neverRoot(account, `${option.path} maps ${user} to an account that`);
      }
      return new RunAsPolicy(option, tool, map, undefined, logger);
    }
    if (option.mode === 'user') {
      const account = await tool.lookup(option.name);
      if (!account) throw new NsmlError(ErrorCodes.CONFIG, `--run-as-user ${option.name}: no such account on this node; create it (useradd --system ${option.name}) or name another`);
      return new RunAsPolicy(option, tool, undefined, neverRoot(account, `--run-as-user ${option.name}`), logger);
    }
    return new RunAsPolicy(option, tool, undefined, undefined, logger);
  }

  /** One line for the agent's start log. */
  describe(): string {
    if (this.option.mode === 'file') return `each user as the account named in ${this.option.path}`;
    if (this.option.mode === 'user') return `every user as ${this.option.name} (sessions are kept from the agent, not from each other)`;
    return `each user as an account of their own (${this.option.prefix ?? ACCOUNT_PREFIX}USER, created at their first session)`;
  }

  resolve(user: string): Promise<RunAsUser> {
    let p = this.resolved.get(user);
    if (!p) {
      p = this.resolveOnce(user);
      this.resolved.set(user, p);
      p.catch(() => this.resolved.delete(user)); // a failure is retried at the next session
    }
    return p;
  }

  private async resolveOnce(user: string): Promise<RunAsUser> {
    if (this.single) return this.single;
    if (this.map) {
      const name = this.map.get(user);
      if (!name) {
        throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `nsml user ${user} has no account on this node; the node's admin adds a line "${user} ACCOUNT" to ${(this.option as { path: string }).path} and restarts the agent`);
      }
      const account = await this.tool.lookup(name);
      if (!account) throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the account ${name} that ${(this.option as { path: string }).path} names for ${user} does not exist on this node; create it`);
      return neverRoot(account, `the account of ${user}`);
    }
    return this.ownAccount(user);
  }

  private async ownAccount(user: string): Promise<RunAsUser> {
    const name = accountNameFor(user, (this.option as { prefix?: string }).prefix);
    const comment = accountComment(user);
    let account = await this.tool.lookup(name);
    if (!account) {
      const made = this.creating.then(() => this.tool.create(name, comment));
      this.creating = made.catch(() => undefined);
      await made;
      account = await this.tool.lookup(name);
      if (!account) throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the account ${name} was created for ${user} but cannot be found; check the node's user database (getent passwd ${name})`);
      this.logger.info('created an account for the sessions of a user', { user, account: name, uid: account.uid });
    }
    if (account.comment !== comment) {
      throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the account ${name} exists but was not created by nsml for ${user} (its comment is ${JSON.stringify(account.comment)}, not ${JSON.stringify(comment)}); ` +
        'remove or rename it, or map users to accounts with nsml agent --run-as FILE');
    }
    return neverRoot(account, `the account of ${user}`);
  }
}

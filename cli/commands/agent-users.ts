import { resolve } from 'node:path';
import type { RunAsOption } from '../../agent/run-as/index.js';
import { usageError } from '../flags.js';
import type { CliIo } from '../io.js';

/** `nsml agent` flags for keeping users apart and for the join token (see agent/README.md, "Users apart"). */
export const USERS_FLAGS = {
  'join-token-file': { type: 'string' },
  'run-as': { type: 'string' },
  'run-as-user': { type: 'string' },
  isolation: { type: 'string' },
} as const;

export const USERS_USAGE = `  --join-token-file FILE    read the join token from FILE (mode 600); --join-token TOKEN and
                            $NSML_JOIN_TOKEN still work but are visible in /proc
  --run-as FILE             run each user's sessions as the account FILE names
                            ("NSMLUSER UNIXUSER" lines); users without a line cannot run here
  --run-as-user NAME        run every session as the one account NAME (e.g. nobody): sessions
                            are kept from the agent and its data, not from each other
  --isolation users|none    users (the default as root): sessions run as unprivileged accounts,
                            one per user (nsml-USER, created at their first session) unless
                            --run-as or --run-as-user says otherwise; none: as the agent's own
                            user, unsafe as root (single-user machines, tests). Default
                            $NSML_AGENT_ISOLATION; "none" when the agent is not root
`;

interface UsersValues {
  'join-token'?: string;
  'join-token-file'?: string;
  'run-as'?: string;
  'run-as-user'?: string;
  isolation?: string;
}

/** Whose uid runs the sessions: from the flags, else $NSML_AGENT_ISOLATION, else `users` as root and `none` otherwise. */
export function runAsOption(values: UsersValues, io: CliIo): RunAsOption {
  const isolation = values.isolation ?? (io.env.NSML_AGENT_ISOLATION || undefined);
  if (isolation !== undefined && isolation !== 'users' && isolation !== 'none') {
    throw usageError(`--isolation must be "users" or "none"; got ${JSON.stringify(isolation)}`, 'agent');
  }
  const file = values['run-as'];
  const user = values['run-as-user'];
  if (file !== undefined && user !== undefined) throw usageError('give --run-as FILE or --run-as-user NAME, not both', 'agent');
  if (file !== undefined || user !== undefined) {
    if (values.isolation === 'none') throw usageError(`--isolation none runs sessions as the agent's own user; it cannot go with ${file !== undefined ? '--run-as' : '--run-as-user'}`, 'agent');
    return file !== undefined ? { mode: 'file', path: resolve(io.cwd, file) } : { mode: 'user', name: user! };
  }
  const root = process.getuid?.() === 0;
  return (isolation ?? (root ? 'users' : 'none')) === 'users' ? { mode: 'accounts' } : { mode: 'none' };
}

export { joinTokenOf } from '../join-token.js';

/** The flags install-service writes into the unit for these options. */
export function usersServiceArgs(values: UsersValues, io: CliIo): string[] {
  const args: string[] = [];
  if (values['run-as'] !== undefined) args.push('--run-as', resolve(io.cwd, values['run-as']));
  if (values['run-as-user'] !== undefined) args.push('--run-as-user', values['run-as-user']);
  if (values.isolation !== undefined) args.push('--isolation', values.isolation);
  return args;
}

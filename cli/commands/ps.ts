import { validateDatasetName } from '../../common/names.js';
import { type Command, printUsage, withClient } from '../command.js';
import { intFlag, parseFlags, usageError } from '../flags.js';
import { printJson } from '../io.js';
import { formatSessionTable } from '../session-view.js';

const USAGE = `Usage: nsml ps [-a] [-d DATASET] [--user USER | --all-users] [-n N] [--json]

Lists sessions, newest first: name, state, type (normal, or fork and resume with their parent),
GPUs, nodes, age, run time, and why it waits or its memo.

Options:
  -a, --all        include finished sessions (default: only queued and running ones)
  --user USER      another user's sessions (default: yours)
  --all-users      every session you may see (yours and those shared with you; an admin: all)
  -d, --dataset D  only sessions of dataset D (named USER/D/N; \`scratch\` for none)
  -n, --limit N    at most N sessions (default 200)
  --json           print a JSON array of sessions
`;

const FLAGS = {
  all: { type: 'boolean', short: 'a' },
  user: { type: 'string' },
  'all-users': { type: 'boolean' },
  limit: { type: 'string', short: 'n' },
  dataset: { type: 'string', short: 'd' },
  json: { type: 'boolean' },
} as const;

export const psCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'ps');
    if (!parsed) return printUsage(io, USAGE);
    const { values } = parsed;
    if (values['all-users'] && values.user !== undefined) throw usageError('give --user or --all-users, not both', 'ps');
    const user = values['all-users'] ? '*' : (values.user ?? '');
    const limit = intFlag(values.limit, '--limit', 0, 0, 100_000);
    const dataset = values.dataset === undefined ? '' : validateDatasetName(values.dataset);
    const sessions = await withClient(io, (c) => c.listSessions({ all: values.all ?? false, user, limit, dataset }, io.signal));
    if (values.json) printJson(io, sessions);
    else if (sessions.length === 0) io.err(values.all ? 'no sessions\n' : 'no queued or running sessions (nsml ps -a shows finished ones)\n');
    else io.out(formatSessionTable(sessions, Date.now()));
    return 0;
  },
};

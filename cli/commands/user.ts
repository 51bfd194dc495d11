import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { formatTable } from '../format.js';
import { expiresFlag, identity } from '../identity-client.js';
import { printJson } from '../io.js';

const USAGE = `Usage: nsml user add NAME [--admin] [--expires DURATION] [--json]
       nsml user ls [--json]

Admins only. \`add\` creates a user (or, with --admin, makes an existing one admin) and prints a
token for them, once: hand it over privately; they run \`nsml login\` with it. Running it again
for an existing user issues another token.

Options:
  --admin              the user may do everything (see all sessions, add users, drain nodes)
  --expires DURATION   the token stops working after this long, e.g. 90d (default: never)
  --json               print JSON
`;

const FLAGS = {
  admin: { type: 'boolean' },
  expires: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const userCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [verb, ...rest] = argv;
    if (verb === undefined || verb === '--help' || verb === '-h') return printUsage(io, USAGE);
    if (verb === 'add') {
      const parsed = parseFlags(rest, FLAGS, 'user', { min: 1, max: 1 });
      if (!parsed) return printUsage(io, USAGE);
      const expiresInMs = expiresFlag(parsed.values.expires);
      let address = '';
      const issued = await withClient(io, (c) => {
        address = c.address;
        return identity.addUser(c, parsed.positionals[0]!, parsed.values.admin === true, expiresInMs, io.signal);
      });
      if (parsed.values.json) printJson(io, issued);
      else {
        io.out(`${issued.created ? 'added' : 'issued a new token for'} ${issued.user}${parsed.values.admin ? ' (admin)' : ''}; their token (shown once):\n${issued.token}\n`);
        io.err(`they log in with: nsml login --coordinator ${address}   (and paste it)\n`);
      }
      return 0;
    }
    if (verb === 'ls') {
      const parsed = parseFlags(rest, { json: FLAGS.json }, 'user');
      if (!parsed) return printUsage(io, USAGE);
      const users = await withClient(io, (c) => identity.listUsers(c, io.signal));
      if (parsed.values.json) printJson(io, users);
      else io.out(formatTable(['USER', 'ADMIN', 'ADDED', 'BY'], users.map((u) => [u.name, u.admin ? 'yes' : '', new Date(Number(u.createdMs)).toISOString().slice(0, 16).replace('T', ' '), u.createdBy])));
      return 0;
    }
    throw usageError(`unknown subcommand ${JSON.stringify(verb)}; expected add or ls`, 'user');
  },
};

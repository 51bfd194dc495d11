import type { TokenInfo__Output } from '../../common/proto/types.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { formatTable } from '../format.js';
import { expiresFlag, identity } from '../identity-client.js';
import { printJson } from '../io.js';

const USAGE = `Usage: nsml token ls [--user NAME] [--json]
       nsml token create [--label TEXT] [--expires DURATION] [--user NAME] [--json]
       nsml token revoke ID [--json]

Your tokens (an admin: anyone's). \`create\` prints a new token once (for another machine, a
CI job); \`revoke\` ends one at once, everywhere. Tokens are kept only as hashes: a lost one
cannot be shown again, only replaced.

Options:
  --label TEXT         a name to recognise it by in \`nsml token ls\`
  --expires DURATION   it stops working after this long, e.g. 30d (default: never)
  --user NAME          another user's tokens (admins only)
  --json               print JSON
`;

const FLAGS = {
  label: { type: 'string' },
  expires: { type: 'string' },
  user: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const when = (ms: number | string) => (Number(ms) > 0 ? new Date(Number(ms)).toISOString().slice(0, 16).replace('T', ' ') : '');

function table(tokens: TokenInfo__Output[]): string {
  return formatTable(
    ['ID', 'USER', 'TOKEN', 'LABEL', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
    tokens.map((t) => [
      t.id, t.user, t.hint, t.label, when(t.createdMs), when(t.expiresMs) || 'never', when(t.lastUsedMs),
      Number(t.revokedMs) > 0 ? 'revoked' : Number(t.expiresMs) > 0 && Number(t.expiresMs) <= Date.now() ? 'expired' : 'active',
    ]),
  );
}

export const tokenCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [verb, ...rest] = argv;
    if (verb === undefined || verb === '--help' || verb === '-h') return printUsage(io, USAGE);
    if (verb === 'ls') {
      const parsed = parseFlags(rest, { user: FLAGS.user, json: FLAGS.json }, 'token');
      if (!parsed) return printUsage(io, USAGE);
      const tokens = await withClient(io, (c) => identity.listTokens(c, parsed.values.user ?? '', io.signal));
      if (parsed.values.json) printJson(io, tokens);
      else io.out(table(tokens));
      return 0;
    }
    if (verb === 'create') {
      const parsed = parseFlags(rest, FLAGS, 'token');
      if (!parsed) return printUsage(io, USAGE);
      const expiresInMs = expiresFlag(parsed.values.expires);
      const issued = await withClient(io, (c) => identity.createToken(c, { label: parsed.values.label ?? '', expiresInMs, user: parsed.values.user ?? '' }, io.signal));
      if (parsed.values.json) printJson(io, issued);
      else io.out(`${issued.token}\n`);
      io.err(parsed.values.json ? '' : `token ${issued.info?.id} for ${issued.user} (shown once; \`nsml token revoke ${issued.info?.id}\` ends it)\n`);
      return 0;
    }
    if (verb === 'revoke') {
      const parsed = parseFlags(rest, { json: FLAGS.json }, 'token', { min: 1, max: 1 });
      if (!parsed) return printUsage(io, USAGE);
      const info = await withClient(io, (c) => identity.revokeToken(c, parsed.positionals[0]!, io.signal));
      if (parsed.values.json) printJson(io, info);
      else io.out(`revoked ${info.id} (${info.hint}) of ${info.user}\n`);
      return 0;
    }
    throw usageError(`unknown subcommand ${JSON.stringify(verb)}; expected ls, create or revoke`, 'token');
  },
};

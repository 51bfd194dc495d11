import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags } from '../flags.js';
import { formatTable } from '../format.js';
import { identity } from '../identity-client.js';
import { printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';

const USAGE = `Usage: nsml share SESSION [USER] [--control] [--revoke] [--json]

Shares one of your sessions with another user: they see it in \`nsml ps --all-users\`, follow its logs and
metrics, and read (pull) its checkpoints. With --control they may also send it commands
(\`nsml control\`) and stop it. --revoke takes the share back. Without USER, lists the shares.
Datasets are shared with \`nsml dataset share\`.

Options:
  --control   also let them control and stop it
  --revoke    take the share back
  --json      print JSON
`;

const FLAGS = {
  control: { type: 'boolean' },
  revoke: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const shareCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'share', { min: 1, max: 2 });
    if (!parsed) return printUsage(io, USAGE);
    const [ref, user = ''] = parsed.positionals;
    const r = await withClient(io, async (c) => identity.share(c, {
      name: await resolveSession(ref!, c, io.signal), user, role: parsed.values.control ? 'control' : 'read', revoke: parsed.values.revoke === true,
    }, io.signal));
    if (parsed.values.json) printJson(io, r);
    else {
      if (user) io.out(parsed.values.revoke ? `${r.name}: no longer shared with ${user}\n` : `${r.name}: shared with ${user} (${parsed.values.control ? 'read and control' : 'read'})\n`);
      io.out(r.shares.length === 0 ? `${r.name} is shared with nobody\n` : formatTable(['USER', 'ROLE'], r.shares.map((s) => [s.user, s.role])));
    }
    return 0;
  },
};

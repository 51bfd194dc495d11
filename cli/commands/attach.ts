import type { CoordinatorClient } from '../client.js';
import { type Command, printUsage, withClient } from '../command.js';
import { intFlag, parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { resolveSession } from '../session-ref.js';
import { processTerminal, runExec } from '../terminal/exec-stream.js';

const USAGE = `Usage: nsml attach SESSION [--rank R]

Opens an interactive shell on the node of a running session, in the session's environment (its
workspace, variables and Unix user), under a real terminal: keys go as typed (Ctrl-C to the
remote command, not to nsml), the window size follows yours. Leave with \`exit\` (or Ctrl-D);
nsml exits with the shell's status. The session keeps running.

Options:
  --rank R    the rank whose node and environment to use (default 0)
`;

const FLAGS = {
  rank: { type: 'string' },
} as const;

/** An interactive shell in `session` (used by `nsml attach` and `nsml run -i`). */
export function attachShell(client: CoordinatorClient, io: CliIo, session: string, rank = 0): Promise<number> {
  return runExec(client, { session, rank, argv: [], tty: true, signal: io.signal }, processTerminal());
}

export const attachCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'attach', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    const rank = intFlag(parsed.values.rank, '--rank', 0, 0, 1_000_000);
    return withClient(io, async (client) => attachShell(client, io, await resolveSession(parsed.positionals[0]!, client, io.signal), rank));
  },
};

import { type Command, printUsage, withClient } from '../command.js';
import { parseDuration } from '../duration.js';
import { parseFlags } from '../flags.js';
import { printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';

const USAGE = `Usage: nsml stop SESSION [--grace DURATION] [--json]

Asks a session to stop: SIGTERM to its processes, SIGKILL after the grace period.

Options:
  --grace DURATION   time between SIGTERM and SIGKILL, e.g. 30s (default: the coordinator's)
  --json             print the session as JSON
`;

const FLAGS = {
  grace: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const stopCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'stop', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    const graceMs = parsed.values.grace === undefined ? 0 : parseDuration(parsed.values.grace, '--grace');
    const session = await withClient(io, async (client) =>
      client.stopSession(await resolveSession(parsed.positionals[0]!, client, io.signal), graceMs, io.signal),
    );
    if (parsed.values.json) printJson(io, session);
    else io.out(`${session.name}: ${session.state}${session.reason ? ` (${session.reason})` : ''}\n`);
    return 0;
  },
};

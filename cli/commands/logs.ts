import { type Command, printUsage, withClient } from '../command.js';
import { intFlag, parseFlags } from '../flags.js';
import { printJson } from '../io.js';
import { followLogs } from '../log-follow.js';
import { logLineJson, printLogLine } from '../log-print.js';
import { resolveSession } from '../session-ref.js';

const USAGE = `Usage: nsml logs SESSION [-f] [--tail N] [--rank N] [--json]

Prints what a session printed. SESSION is USER/DATASET/N, or DATASET/N for your own.

Options:
  -f, --follow     keep printing until the session ends (survives a coordinator restart)
  -n, --tail N     only the last N lines (then, with -f, every new one)
  --rank N         only the lines of process N (default: every process)
  --json           a JSON array of lines; with -f, one JSON object per line as they come
`;

const FLAGS = {
  follow: { type: 'boolean', short: 'f' },
  tail: { type: 'string', short: 'n' },
  rank: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const logsCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'logs', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    const { values } = parsed;
    const follow = values.follow ?? false;
    const rank = intFlag(values.rank, '--rank', -1, 0, 100_000);
    const tail = intFlag(values.tail, '--tail', 0, 1, 10_000_000);
    return withClient(io, async (client) => {
      const name = await resolveSession(parsed.positionals[0]!, client, io.signal);
      const session = await client.getSession(name, io.signal);
      const prefixRank = session.placements.length > 1 && rank < 0;
      const collected: Record<string, unknown>[] = [];
      const result = await followLogs(client, {
        name,
        follow,
        rank,
        tail,
        signal: io.signal,
        onLine: (line) => {
          if (!values.json) printLogLine(io, line, { prefixRank });
          else if (follow) io.out(JSON.stringify(logLineJson(line)) + '\n');
          else collected.push(logLineJson(line));
        },
      });
      if (values.json && !follow) printJson(io, collected);
      return result.aborted ? 130 : 0;
    });
  },
};

import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';
import { describeWhy, formatQueueTable } from './queue-view.js';

const USAGE = `Usage: nsml queue [--user USER] [--json]
       nsml queue why SESSION [--json]

Lists the queued sessions in the order the scheduling policy will start them, each with the
cause it waits: fragmentation (enough GPUs free, but not on the nodes its shape needs),
priority (higher-priority sessions are ahead), fair share (its user used more than its share
recently), reservation (the free GPUs are held for the session at the head), quarantined GPU,
a shape that fits no node, or plain resources (every GPU is busy).

\`nsml queue why SESSION\` explains one session: its place, the cause, the session it waits for.

Options:
  --user USER   only USER's sessions (positions stay those of the whole queue)
  --json        print JSON: {policy, nowMs, entries: [...]}, or the one entry for \`why\`
`;

const FLAGS = {
  user: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const queueCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'queue', { min: 0, max: 2 });
    if (!parsed) return printUsage(io, USAGE);
    const { values, positionals } = parsed;
    if (positionals.length > 0 && positionals[0] !== 'why') throw usageError(`unknown subcommand ${JSON.stringify(positionals[0])}`, 'queue');
    if (positionals[0] === 'why' && positionals.length !== 2) throw usageError('`nsml queue why` needs one SESSION', 'queue');
    return withClient(io, async (client) => {
      if (positionals[0] === 'why') {
        const name = await resolveSession(positionals[1]!, client, io.signal);
        const [entry, queue] = await Promise.all([client.queueWhy(name, io.signal), client.queue('', io.signal)]);
        if (values.json) printJson(io, entry);
        else io.out(describeWhy(entry, queue.entries.length, queue.policy));
        return 0;
      }
      const queue = await client.queue(values.user ?? '', io.signal);
      if (values.json) printJson(io, queue);
      else if (queue.entries.length === 0) io.err(`nothing is queued (policy ${queue.policy})\n`);
      else io.out(formatQueueTable(queue.entries));
      return 0;
    });
  },
};

import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags } from '../flags.js';
import { printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';

const USAGE = `Usage: nsml rm SESSION... [--json]

Removes ended sessions of yours: each session's record, events, logs, metrics, commands and
checkpoint records go in one transaction (\`nsml model pull\` of its checkpoints stops working).
The blobs of its workspace and checkpoints are freed by the next blob collection
(\`nsml admin gc\`, or the coordinator's schedule) unless something else still uses them.
A session that has not ended is refused (NSML_E_SESSION_ACTIVE): stop it first.

Options:
  --json   print what was removed as JSON
`;

const FLAGS = { json: { type: 'boolean' } } as const;

export const rmCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'rm', { min: 1, max: 1000 });
    if (!parsed) return printUsage(io, USAGE);
    const removed = await withClient(io, async (client) => {
      const out = [];
      for (const ref of parsed.positionals) out.push(await client.removeSession(await resolveSession(ref, client, io.signal), io.signal));
      return out;
    });
    if (parsed.values.json) printJson(io, removed);
    else for (const r of removed) io.out(`${r.name}: removed (${r.logLines} log lines, ${r.metricPoints} metric points, ${r.checkpoints} checkpoints)\n`);
    return 0;
  },
};

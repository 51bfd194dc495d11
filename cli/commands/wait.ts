import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { type Command, printUsage, withClient } from '../command.js';
import { formatDuration, parseDuration } from '../duration.js';
import { parseFlags } from '../flags.js';
import { printJson } from '../io.js';
import { isTerminal } from '../retry.js';
import { resolveSession } from '../session-ref.js';
import { waitForEnd } from '../session-wait.js';
import { describeOutcome } from '../session-view.js';

const USAGE = `Usage: nsml wait SESSION [--timeout DURATION] [--json]

Waits until a session ends and prints how it ended. Exit status 0 only when it succeeded;
1 when it failed, was stopped or lost, or the timeout passed first.

Options:
  --timeout DURATION   give up after this long, e.g. 30m (default: wait as long as it takes)
  --json               print the final session as JSON
`;

const FLAGS = {
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const waitCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'wait', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    const timeoutMs = parsed.values.timeout === undefined ? undefined : parseDuration(parsed.values.timeout, '--timeout');
    return withClient(io, async (client) => {
      const name = await resolveSession(parsed.positionals[0]!, client, io.signal);
      const session = (await waitForEnd(client, name, { timeoutMs, signal: io.signal })) ?? (await client.getSession(name));
      if (parsed.values.json) printJson(io, session);
      else io.out(describeOutcome(session, Date.now()) + '\n');
      if (io.signal.aborted) return 130;
      if (!isTerminal(session.state) && timeoutMs !== undefined) {
        throw new NsmlError(ErrorCodes.TIMEOUT, `${name} is still ${session.state} after ${formatDuration(timeoutMs)}; wait again or raise --timeout`);
      }
      return session.state === 'succeeded' ? 0 : 1;
    });
  },
};

import { type Command, printUsage, withClient } from '../command.js';
import { intFlag, parseFlags, usageError } from '../flags.js';
import { resolveSession } from '../session-ref.js';
import { processTerminal, runExec } from '../terminal/exec-stream.js';

const USAGE = `Usage: nsml exec SESSION [--rank R] [-t] -- COMMAND [ARGS...]

Runs COMMAND on the node of a running session, in the session's environment: its workspace as
the working folder, its variables (NSML_*, CUDA_VISIBLE_DEVICES, PATH, ...) and its Unix user.
stdin is sent to the command; its stdout and stderr come back byte for byte
(\`nsml exec S -- cat out.txt > out.txt\` copies a file). Exit status: the command's, or 128+N
when signal N killed it; 1 when it could not run (the reason on stderr).
Ctrl-C sends SIGINT to the command. Only the session's owner, an admin or a user it is shared
with for control (\`nsml share S USER --control\`) may run commands in it.

Options:
  --rank R    the rank whose node and environment to use (default 0)
  -t, --tty   run under a terminal (stdout and stderr merge; keys go as typed)
`;

const FLAGS = {
  rank: { type: 'string' },
  tty: { type: 'boolean', short: 't' },
} as const;

/** Splits `nsml exec` arguments at the first `--`: flags and the session before, the command after. */
export function splitAtDashes(argv: string[]): { head: string[]; command: string[] | undefined } {
  const at = argv.indexOf('--');
  return at < 0 ? { head: argv, command: undefined } : { head: argv.slice(0, at), command: argv.slice(at + 1) };
}

export const execCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { head, command } = splitAtDashes(argv);
    const parsed = parseFlags(head, FLAGS, 'exec', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    if (!command || command.length === 0) throw usageError('give the command to run after `--`, e.g. nsml exec SESSION -- nvidia-smi', 'exec');
    const rank = intFlag(parsed.values.rank, '--rank', 0, 0, 1_000_000);
    return withClient(io, async (client) => {
      const session = await resolveSession(parsed.positionals[0]!, client, io.signal);
      return runExec(client, { session, rank, argv: command, tty: parsed.values.tty ?? false, signal: io.signal }, processTerminal());
    });
  },
};

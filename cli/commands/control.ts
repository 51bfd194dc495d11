import { parseControlWords, type ControlBody } from '../../common/control-command.js';
import { ErrorCodes, NsmlError, errorMessage, type ErrorCode } from '../../common/errors.js';
import type { ControlResult__Output } from '../../common/proto/types.js';
import { type Command, printUsage, withClient } from '../command.js';
import { formatDuration, parseDuration } from '../duration.js';
import { parseFlags, usageError } from '../flags.js';
import { printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';

const USAGE = `Usage: nsml control SESSION COMMAND [ARGS] [--timeout DURATION] [--json]

Steers a running session. The script applies the command at its next nsml.report() or
nsml.poll(); the result comes back with the step at which it applied.

Commands:
  set K=V [K=V ...]              change hyperparameters (nsml.hparams; on_change callbacks run)
  get NAME                       read a variable of the last report(scope=...) or a hyperparameter
  save NAME                      save a checkpoint now, with the bound save callback
  load CHECKPOINT [--session S]  load a checkpoint of this session (or of S)
  call NAME [JSON]               call a function decorated with @nsml.command (JSON list: positional
                                 arguments, object: keyword arguments, else one argument)
  stop                           stop the script once it flushed (exit status 0)

Options:
  --timeout DURATION   how long to wait for the result (default 30s, at most 10m); the command
                       stays queued after it and applies when the script gets to it
  --json               print the result as JSON
`;

const FLAGS = {
  timeout: { type: 'string' },
  session: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const MAX_TIMEOUT_MS = 600_000;
const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));

function controlBody(words: string[], session: string | undefined): ControlBody {
  if (session !== undefined && words[0] !== 'load') throw usageError('--session goes with load only', 'control');
  try {
    return parseControlWords(session === undefined ? words : [...words, '--session', session]);
  } catch (err) {
    throw usageError(errorMessage(err), 'control');
  }
}

function parseValue(json: string): unknown {
  if (json === '') return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

function stepText(r: ControlResult__Output): string {
  return r.step === undefined || r.step === null ? 'at the next step' : `at step ${r.step}`;
}

/** `set applied at step 1200: lr=0.01`, and so on per command. */
function describeApplied(body: ControlBody, r: ControlResult__Output): string {
  const value = parseValue(r.valueJson);
  const at = stepText(r);
  switch (body.name) {
    case 'set': {
      const pairs = value && typeof value === 'object' ? Object.entries(value).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') : r.valueJson;
      return `set applied ${at}: ${pairs}`;
    }
    case 'get':
      return `${String(body.args.name)} = ${r.valueJson} (${at})`;
    case 'call':
      return `${String(body.args.name)} returned ${r.valueJson || 'null'} (${at})`;
    case 'save':
      return `saved checkpoint ${String((value as { checkpoint?: unknown } | null)?.checkpoint ?? body.args.name ?? '')} ${at}`;
    case 'load':
      return `loaded checkpoint ${String(body.args.name)}${body.args.session ? ` of ${String(body.args.session)}` : ''} ${at}`;
    case 'stop':
      return `stop applied ${at}: the script is exiting`;
  }
}

/** A note when the ranks of a gang applied at different steps. */
function gangNote(r: ControlResult__Output): string {
  const steps = [...new Set(r.ranks.map((x) => x.step).filter((s): s is number => s !== undefined && s !== null))];
  const planned = r.atStep !== undefined && r.atStep !== null ? ` (planned for step ${r.atStep})` : '';
  return steps.length > 1 ? `\nnote: the ${r.ranks.length} ranks applied it at steps ${steps.join(', ')}${planned}` : '';
}

function failure(body: ControlBody, r: ControlResult__Output): NsmlError {
  const code: ErrorCode = KNOWN_CODES.has(r.errorCode) ? (r.errorCode as ErrorCode) : ErrorCodes.COMMAND_FAILED;
  const who = r.errorType && r.errorType !== 'NsmlError' && !KNOWN_CODES.has(r.errorCode) ? `${r.errorType}: ` : '';
  const where = r.step === undefined || r.step === null ? '' : ` at step ${r.step}`;
  return new NsmlError(code, `${body.name} failed${where}: ${who}${r.errorMessage || 'no reason given'}`);
}

export const controlCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'control', { min: 2, max: 1_000 });
    if (!parsed) return printUsage(io, USAGE);
    const [sessionWord, ...words] = parsed.positionals;
    const body = controlBody(words, parsed.values.session);
    const timeoutMs = parsed.values.timeout === undefined ? 30_000 : parseDuration(parsed.values.timeout, '--timeout');
    if (timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) throw usageError(`--timeout must be more than 0 and at most ${formatDuration(MAX_TIMEOUT_MS)}`, 'control');
    return withClient(io, async (client) => {
      const name = await resolveSession(sessionWord!, client, io.signal);
      const r = await client.control({ name, command: body.name, argsJson: JSON.stringify(body.args), timeoutMs }, io.signal);
      if (parsed.values.json) printJson(io, { ...r, value: parseValue(r.valueJson) });
      if (r.state === 'applied') {
        if (!parsed.values.json) io.out(describeApplied(body, r) + gangNote(r) + '\n');
        return 0;
      }
      if (r.state === 'failed') {
        if (r.traceback && !parsed.values.json) io.err(r.traceback.endsWith('\n') ? r.traceback : `${r.traceback}\n`);
        throw failure(body, r);
      }
      throw new NsmlError(
        ErrorCodes.TIMEOUT,
        `${body.name} (${r.id}) is still ${r.state} after ${formatDuration(timeoutMs)}: the script applies commands at its next nsml.report() or nsml.poll(); it stays queued and applies then`,
      );
    });
  },
};

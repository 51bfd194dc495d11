import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { parseSessionName, validateCheckpointName } from '../../common/names.js';
import { COMMAND_NAMES, MAX_COMMAND_ID_CHARS, type BridgeCommand, type CommandName } from './protocol.js';

const MAX_ARGS_BYTES = 1024 * 1024;

function invalid(message: string, cause?: unknown): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, message, cause === undefined ? {} : { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a command before it goes down to a script (it comes from the coordinator's stream). */
export function validateCommand(command: BridgeCommand): BridgeCommand {
  const { id, name, args } = command as { id: unknown; name: unknown; args: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_COMMAND_ID_CHARS) {
    throw invalid(`a command id must be a string of 1 to ${MAX_COMMAND_ID_CHARS} characters, got ${JSON.stringify(id)?.slice(0, 40)}`);
  }
  if (!COMMAND_NAMES.includes(name as CommandName)) {
    throw invalid(`unknown command ${JSON.stringify(name)?.slice(0, 40)}; expected one of ${COMMAND_NAMES.join(', ')}`);
  }
  const a = args ?? {};
  if (!isPlainObject(a)) throw invalid(`the args of command ${id} must be an object`);
  const size = Buffer.byteLength(JSON.stringify(a));
  if (size > MAX_ARGS_BYTES) throw new NsmlError(ErrorCodes.TOO_LARGE, `the args of command ${id} are ${size} bytes; the limit is ${MAX_ARGS_BYTES}`);
  checkArgs(name as CommandName, a);
  return { id, name: name as CommandName, args: a };
}

function checkArgs(name: CommandName, args: Record<string, unknown>): void {
  switch (name) {
    case 'set': {
      const values = args.values;
      if (!isPlainObject(values) || Object.keys(values).length === 0) throw invalid('set needs values, e.g. set lr=0.01');
      for (const v of Object.values(values)) if (typeof v !== 'string') throw invalid('set values are texts (parsed as JSON by the script when they parse)');
      return;
    }
    case 'get':
    case 'call':
      if (typeof args.name !== 'string' || args.name.length === 0) throw invalid(`${name} needs a name`);
      return;
    case 'save':
      if (args.name !== undefined && args.name !== null) checkName(args.name);
      return;
    case 'load':
      checkName(args.name);
      if (args.session !== undefined && args.session !== null) {
        try {
          parseSessionName(String(args.session));
        } catch (err) {
          throw invalid(errorMessage(err), err);
        }
      }
      return;
    case 'stop':
      return;
  }
}

function checkName(name: unknown): void {
  try {
    validateCheckpointName(String(name ?? ''));
  } catch (err) {
    throw invalid(errorMessage(err), err);
  }
}

/**
 * Turns the words of `nsml control SESSION ...` into a command body (the coordinator adds the id):
 * `set lr=0.01 momentum=0.9`, `get NAME`, `save NAME`, `load CHECKPOINT [--session S]`,
 * `call NAME [JSON]`, `stop`.
 */
export function parseControlWords(words: string[]): Omit<BridgeCommand, 'id'> {
  const [verb, ...rest] = words;
  const usage = 'expected: set K=V [K=V...] | get NAME | save NAME | load CHECKPOINT [--session S] | call NAME [JSON] | stop';
  switch (verb) {
    case 'set': {
      if (rest.length === 0) throw invalid(`set needs K=V; ${usage}`);
      const values: Record<string, string> = {};
      for (const pair of rest) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw invalid(`set: ${JSON.stringify(pair)} is not K=V (e.g. lr=0.01)`);
        values[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { name: 'set', args: { values } };
    }
    case 'get':
    case 'save':
      if (rest.length !== 1) throw invalid(`${verb} takes one name; ${usage}`);
      return { name: verb, args: { name: rest[0] } };
    case 'load':
      return parseLoad(rest, usage);
    case 'call':
      return parseCall(rest, usage);
    case 'stop':
      if (rest.length !== 0) throw invalid(`stop takes no arguments; ${usage}`);
      return { name: 'stop', args: {} };
    default:
      throw invalid(`unknown control command ${JSON.stringify(verb ?? '')}; ${usage}`);
  }
}

function parseLoad(rest: string[], usage: string): Omit<BridgeCommand, 'id'> {
  const i = rest.indexOf('--session');
  let session: string | undefined;
  const words = [...rest];
  if (i >= 0) {
    session = words[i + 1];
    if (session === undefined) throw invalid(`load: --session needs USER/DATASET/N; ${usage}`);
    words.splice(i, 2);
  }
  if (words.length !== 1) throw invalid(`load takes one checkpoint name; ${usage}`);
  return { name: 'load', args: session === undefined ? { name: words[0] } : { name: words[0], session } };
}

function parseCall(rest: string[], usage: string): Omit<BridgeCommand, 'id'> {
  if (rest.length < 1 || rest.length > 2) throw invalid(`call takes a function name and optional JSON; ${usage}`);
  if (rest.length === 1) return { name: 'call', args: { name: rest[0] } };
  try {
    return { name: 'call', args: { name: rest[0], args: JSON.parse(rest[1]!) as unknown } };
  } catch (err) {
    throw invalid(`call ${rest[0]}: the arguments must be JSON (e.g. '[1, 2]' or '{"k": 1}'): ${errorMessage(err)}`, err);
  }
}

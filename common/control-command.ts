import { ErrorCodes, NsmlError, errorMessage } from './errors.js';
import { parseSessionName, validateCheckpointName } from './names.js';

/**
 * Operator commands for a running script (`nsml control`), shared by the CLI, the coordinator
 * and the agent. The commands and their args are described in proto/sdk-bridge.md.
 */
export type ControlName = 'set' | 'get' | 'save' | 'load' | 'call' | 'stop';
export const CONTROL_NAMES: readonly ControlName[] = ['set', 'get', 'save', 'load', 'call', 'stop'];

/** A command without its id (the coordinator gives each one). */
export interface ControlBody {
  name: ControlName;
  args: Record<string, unknown>;
}

/** The largest args object, as JSON. */
export const MAX_CONTROL_ARGS_BYTES = 1024 * 1024;

function invalid(message: string, cause?: unknown): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, message, cause === undefined ? {} : { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a command's name and args; returns them typed. Throws NSML_E_INVALID_ARGUMENT / NSML_E_TOO_LARGE. */
export function checkControlBody(name: unknown, args: unknown): ControlBody {
  if (!CONTROL_NAMES.includes(name as ControlName)) {
    throw invalid(`unknown command ${JSON.stringify(name)?.slice(0, 40)}; expected one of ${CONTROL_NAMES.join(', ')}`);
  }
  const a = args ?? {};
  if (!isPlainObject(a)) throw invalid(`the args of command ${String(name)} must be an object`);
  if (a.at_step !== undefined && (typeof a.at_step !== 'number' || !Number.isFinite(a.at_step))) {
    throw invalid(`${String(name)}: at_step must be a finite number, got ${JSON.stringify(a.at_step)}`);
  }
  const size = Buffer.byteLength(JSON.stringify(a));
  if (size > MAX_CONTROL_ARGS_BYTES) {
    throw new NsmlError(ErrorCodes.TOO_LARGE, `the args of command ${String(name)} are ${size} bytes; the limit is ${MAX_CONTROL_ARGS_BYTES}`);
  }
  checkArgs(name as ControlName, a);
  return { name: name as ControlName, args: a };
}

function checkArgs(name: ControlName, args: Record<string, unknown>): void {
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

const USAGE = 'expected: set K=V [K=V...] | get NAME | save NAME | load CHECKPOINT [--session S] | call NAME [JSON] | stop';

/**
 * Turns the words of `nsml control SESSION ...` into a command body (the coordinator adds the id):
 * `set lr=0.01 momentum=0.9`, `get NAME`, `save NAME`, `load CHECKPOINT [--session S]`,
 * `call NAME [JSON]`, `stop`.
 */
export function parseControlWords(words: string[]): ControlBody {
  const [verb, ...rest] = words;
  switch (verb) {
    case 'set': {
      if (rest.length === 0) throw invalid(`set needs K=V; ${USAGE}`);
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
      if (rest.length !== 1) throw invalid(`${verb} takes one name; ${USAGE}`);
      return { name: verb, args: { name: rest[0] } };
    case 'load':
      return parseLoad(rest);
    case 'call':
      return parseCall(rest);
    case 'stop':
      if (rest.length !== 0) throw invalid(`stop takes no arguments; ${USAGE}`);
      return { name: 'stop', args: {} };
    default:
      throw invalid(`unknown control command ${JSON.stringify(verb ?? '')}; ${USAGE}`);
  }
}

function parseLoad(rest: string[]): ControlBody {
  const i = rest.indexOf('--session');
  let session: string | undefined;
  const words = [...rest];
  if (i >= 0) {
    session = words[i + 1];
    if (session === undefined) throw invalid(`load: --session needs USER/DATASET/N; ${USAGE}`);
    words.splice(i, 2);
  }
  if (words.length !== 1) throw invalid(`load takes one checkpoint name; ${USAGE}`);
  return { name: 'load', args: session === undefined ? { name: words[0] } : { name: words[0], session } };
}

function parseCall(rest: string[]): ControlBody {
  if (rest.length < 1 || rest.length > 2) throw invalid(`call takes a function name and optional JSON; ${USAGE}`);
  if (rest.length === 1) return { name: 'call', args: { name: rest[0] } };
  try {
    return { name: 'call', args: { name: rest[0], args: JSON.parse(rest[1]!) as unknown } };
  } catch (err) {
    throw invalid(`call ${rest[0]}: the arguments must be JSON (e.g. '[1, 2]' or '{"k": 1}'): ${errorMessage(err)}`, err);
  }
}

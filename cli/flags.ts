import { parseArgs } from 'node:util';
import { ErrorCodes, NsmlError, errorMessage } from '../common/errors.js';

export interface FlagOption {
  type: 'string' | 'boolean';
  short?: string;
}

export type FlagSpec = Record<string, FlagOption>;

export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean;
};

export interface ParsedFlags<S extends FlagSpec> {
  values: FlagValues<S>;
  positionals: string[];
}

export interface PositionalRule {
  min: number;
  max: number;
}

/** A usage error: printed as `nsml: NSML_E_USAGE: ...`, exit status 2. */
export function usageError(message: string, command?: string): NsmlError {
  const hint = command ? `; see \`nsml ${command} --help\`` : '; see `nsml --help`';
  return new NsmlError(ErrorCodes.USAGE, message + hint);
}

/**
 * Parses `argv` with node:util parseArgs, strictly. Returns undefined when `-h`/`--help` was
 * given. A string flag always takes the next word as its value, even when it starts with a
 * dash (`-a "--lr 0.1"`), which plain parseArgs refuses as ambiguous.
 */
export function parseFlags<S extends FlagSpec>(
  argv: string[],
  spec: S,
  command: string,
  positionals: PositionalRule = { min: 0, max: 0 },
): ParsedFlags<S> | undefined {
  const normalized = normalize(argv, spec);
  if (normalized === undefined) return undefined;
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: normalized, options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(unknownOption(err, spec) ?? errorMessage(err).split('\n')[0]!, command);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw usageError(`missing argument (expected at least ${positionals.min}, got ${count})`, command);
  if (count > positionals.max) {
    throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`, command);
  }
  return { values: parsed.values as FlagValues<S>, positionals: parsed.positionals };
}

/** Rewrites `--flag VALUE` and `-f VALUE` of string flags to `--flag=VALUE`; undefined on help. */
function normalize(argv: string[], spec: FlagSpec): string[] | undefined {
  const longOf = new Map<string, string>();
  for (const [long, option] of Object.entries(spec)) {
    if (option.type !== 'string') continue;
    longOf.set(`--${long}`, long);
    if (option.short) longOf.set(`-${option.short}`, long);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    if (arg === '--help' || arg === '-h') return undefined;
    const long = longOf.get(arg);
    if (long !== undefined && i + 1 < argv.length) {
      out.push(`--${long}=${argv[i + 1]!}`);
      i += 1;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Parses a whole number flag in [min, max]. */
export function intFlag(value: string | undefined, flag: string, fallback: number, min = 0, max = 1_000_000): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value.trim())) throw new NsmlError(ErrorCodes.USAGE, `${flag} must be a whole number; got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new NsmlError(ErrorCodes.USAGE, `${flag} must be between ${min} and ${max}; got ${n}`);
  return n;
}

/** `unknown option --detatch; did you mean --detach?` for parseArgs' unknown-option error. */
function unknownOption(err: unknown, spec: FlagSpec): string | undefined {
  if ((err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const flag = /'(-[^']*)'/.exec(errorMessage(err))?.[1];
  if (!flag) return undefined;
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of Object.keys(spec)) {
    const d = editDistance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  const guess = best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? `; did you mean --${best}?` : '';
  return `unknown option ${flag}${guess}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

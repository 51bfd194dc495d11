import { isAbsolute } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import { parseSessionName, validateCheckpointName } from '../../common/names.js';
import {
  MAX_COMMAND_ID_CHARS, MAX_KEY_CHARS, MAX_KEYS_PER_RECORD, MAX_RECORDS_PER_BATCH,
  type BridgeEvent, type CommandResult, type EventKind, type MetricRecord, type SdkMessage,
} from './protocol.js';

/** A message from the SDK after validation, or why it was refused. */
export type ParseResult = { ok: true; message: SdkMessage } | { ok: false; reason: string };

type Obj = Record<string, unknown>;

class Invalid extends Error {}

const EVENT_KINDS = new Set<EventKind>(['set', 'save', 'load', 'call', 'stop']);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const knownKeys = new Set<string>();
const MAX_KNOWN_KEYS = 100_000;

function fail(reason: string): never {
  throw new Invalid(reason);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(o: Obj, key: string, max: number, optional = false): string {
  const v = o[key];
  if (v === undefined && optional) return '';
  if (typeof v !== 'string') fail(`"${key}" must be a string, got ${typeof v}`);
  if (v.length > max) fail(`"${key}" is ${v.length} characters; the limit is ${max}`);
  return v;
}

function int(o: Obj, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`"${key}" must be a non-negative integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function num(o: Obj, key: string, nullable = false): number | null {
  const v = o[key];
  if ((v === null || v === undefined) && nullable) return null;
  if (typeof v !== 'number') fail(`"${key}" must be a number, got ${typeof v}`);
  return v;
}

function checkKey(key: string): void {
  if (knownKeys.has(key)) return;
  if (key.length === 0 || key.length > MAX_KEY_CHARS || CONTROL.test(key)) {
    fail(`metric key ${JSON.stringify(key.slice(0, 60))} (${key.length} characters) must have 1 to ${MAX_KEY_CHARS} characters without control characters`);
  }
  if (knownKeys.size < MAX_KNOWN_KEYS) knownKeys.add(key);
}

/** Checks a values object in place; the three non-finite strings become numbers. */
function values(raw: unknown, where: string): Record<string, number> {
  if (!isObj(raw)) fail(`${where} must be an object of numbers`);
  let count = 0;
  for (const key in raw) {
    if (++count > MAX_KEYS_PER_RECORD) fail(`${where} has more than ${MAX_KEYS_PER_RECORD} keys`);
    checkKey(key);
    const v = raw[key];
    if (typeof v === 'number') continue;
    if (typeof v === 'string' && v in NON_FINITE) {
      raw[key] = NON_FINITE[v];
      continue;
    }
    fail(`${where}: value of ${JSON.stringify(key.slice(0, 60))} must be a number, got ${typeof v}`);
  }
  return raw as Record<string, number>;
}

function record(raw: unknown, i: number): MetricRecord {
  if (!isObj(raw)) fail(`records[${i}] must be an object`);
  const tsMs = num(raw, 'ts_ms') as number;
  const step = num(raw, 'step') as number;
  return { tsMs, step, values: values(raw.values, `records[${i}].values`), summary: raw.summary === true };
}

function metrics(o: Obj): SdkMessage {
  const raw = o.records;
  if (!Array.isArray(raw)) fail('"records" must be an array');
  if (raw.length > MAX_RECORDS_PER_BATCH) fail(`a batch has ${raw.length} records; the limit is ${MAX_RECORDS_PER_BATCH}`);
  const records = new Array<MetricRecord>(raw.length);
  for (let i = 0; i < raw.length; i++) records[i] = record(raw[i], i);
  const dropped = o.dropped === undefined ? 0 : int(o, 'dropped');
  return { type: 'metrics', batch: { records, dropped } };
}

function event(o: Obj): SdkMessage {
  const kind = o.kind as EventKind;
  if (!EVENT_KINDS.has(kind)) fail(`"kind" must be one of ${[...EVENT_KINDS].join(', ')}`);
  const ev: BridgeEvent = { tsMs: num(o, 'ts_ms') as number, step: num(o, 'step', true), kind };
  if (o.name !== undefined && o.name !== null) ev.name = String(o.name).slice(0, 1000);
  if (o.value !== undefined) ev.value = o.value;
  if (o.old !== undefined) ev.old = o.old;
  if (typeof o.session === 'string') ev.session = o.session.slice(0, 200);
  return { type: 'event', event: ev };
}

function result(o: Obj): SdkMessage {
  const id = str(o, 'id', MAX_COMMAND_ID_CHARS);
  if (typeof o.ok !== 'boolean') fail('"ok" must be a boolean');
  const res: CommandResult = { id, ok: o.ok, step: num(o, 'step', true) };
  if (o.ok) {
    res.value = o.value ?? null;
  } else {
    const e = o.error;
    if (!isObj(e)) fail('"error" must be an object when ok is false');
    res.error = { type: str(e, 'type', 200), message: str(e, 'message', 65_536) };
    if (typeof e.code === 'string') res.error.code = e.code.slice(0, 100);
    if (typeof e.traceback === 'string') res.error.traceback = e.traceback.slice(-4096);
  }
  return { type: 'result', result: res };
}

function checkpointName(o: Obj): string {
  const name = str(o, 'name', 200);
  try {
    return validateCheckpointName(name);
  } catch (err) {
    return fail(errorMessage(err));
  }
}

function save(o: Obj): SdkMessage {
  const id = int(o, 'id');
  const name = checkpointName(o);
  const dir = str(o, 'dir', 4096);
  if (!isAbsolute(dir)) fail(`"dir" must be an absolute path, got ${JSON.stringify(dir.slice(0, 80))}`);
  const summary = o.summary === undefined ? {} : values(o.summary, '"summary"');
  return { type: 'save', id, name, dir, summary };
}

function load(o: Obj): SdkMessage {
  const id = int(o, 'id');
  const name = checkpointName(o);
  let session: string | null = null;
  if (o.session !== undefined && o.session !== null) {
    session = str(o, 'session', 200);
    try {
      parseSessionName(session);
    } catch (err) {
      fail(errorMessage(err));
    }
  }
  return { type: 'load', id, name, session };
}

function hello(o: Obj): SdkMessage {
  const v = int(o, 'v');
  return { type: 'hello', v, sdk: str(o, 'sdk', 100), pid: int(o, 'pid'), rank: int(o, 'rank'), session: str(o, 'session', 200, true) };
}

const PARSERS: Record<string, (o: Obj) => SdkMessage> = {
  hello, metrics, event, result, save, load, bye: (o) => ({ type: 'bye', id: int(o, 'id') }),
};

/** Parses and validates one line from the SDK. Never throws. */
export function parseSdkLine(line: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `not JSON (${errorMessage(err).slice(0, 120)})` };
  }
  if (!isObj(raw)) return { ok: false, reason: 'a message must be a JSON object' };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.hasOwn(PARSERS, type)) {
    return { ok: false, reason: `unknown message type ${JSON.stringify(type)?.slice(0, 60)}` };
  }
  try {
    return { ok: true, message: PARSERS[type]!(raw) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: `${type}: ${err.message}` };
    return { ok: false, reason: `${type}: ${errorMessage(err)}` };
  }
}

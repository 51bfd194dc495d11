import fc from 'fast-check';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import { loadProto } from '../../common/proto/load.js';
import { startBridgeServer, type BridgeServer } from '../../agent/bridge/bridge-server.js';
import { MAX_LINE_BYTES } from '../../agent/bridge/protocol.js';
import { RawClient } from '../../agent/bridge/test-fixtures/raw-client.js';
import { parseSdkLine } from '../../agent/bridge/validate-message.js';
import { RankHandler, type RankCheckpoints } from '../../agent/session-bridge/rank-handler.js';
import type { JournalEntry } from '../../agent/uplink/journal-reader.js';
import { entryMessage } from '../../agent/uplink/telemetry-entry.js';

/**
 * A fuzz of the SDK bridge (proto/sdk-bridge.md) as the agent serves it, with the agent's own rank
 * handler behind it: random bytes, lines over the size limit, lines cut short, JSON that is not a
 * message, and messages of every kind with hostile fields, with and without `hello`. The agent
 * answers each bad line with an `error` carrying an NSML_E_* code and closes that connection (or
 * answers a request with a reply whose error has one), never crashes, keeps serving a bystander
 * connection, and every line it appended to the rank's telemetry journal can be shipped.
 */

const SESSION = 'fuzz/scratch/1';
const RUNS = Number(process.env.NSML_FUZZ_RUNS ?? 100);
const ANSWER_MS = 3_000;
/** The `bye` that closes each run: its reply proves the connection is still served. */
const LAST_ID = 2 ** 40;

let dir: string;
let checkpointDir: string;
let journal: string;
let server: BridgeServer;
let bystander: RawClient;
let byeIds = 0;

/** Saves list what they were given; loads find nothing. */
const checkpoints: RankCheckpoints = {
  save: async (request) => ({ files: request.files.length, bytes: request.files.reduce((n, f) => n + f.size, 0), uploadedBytes: 0 }),
  load: async (request) => {
    throw new NsmlError(ErrorCodes.NOT_FOUND, `no checkpoint ${request.name}`, { details: { existing: [] } });
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nsml-fuzz-bridge-'));
  checkpointDir = join(dir, 'ckpt');
  journal = join(dir, 'telemetry.jsonl');
  await mkdir(join(checkpointDir, 'save-1'), { recursive: true });
  await writeFile(join(checkpointDir, 'save-1', 'model'), 'weights');
  const handler = new RankHandler({ session: SESSION, epoch: 1, rank: 0 }, journal, checkpoints, silentLogger);
  server = await startBridgeServer({ socketPath: join(dir, 's.sock'), session: SESSION, handler, checkpointDir, logger: silentLogger, helloTimeoutMs: 2_000 });
  bystander = await RawClient.connect(server.socketPath);
  await bystander.hello(7);
});

afterAll(async () => {
  bystander?.close();
  await server?.close(100);
  await rm(dir, { recursive: true, force: true });
});

type Line = Record<string, unknown>;

/** Sends `payload`, then a `bye`; waits for that bye's reply or for the agent to close the connection. */
async function exchange(payload: Buffer | string, hello: boolean): Promise<{ lines: Line[]; closed: boolean }> {
  const c = await RawClient.connect(server.socketPath);
  try {
    if (hello) await c.hello();
    c.socket.write(payload);
    c.send({ type: 'bye', id: LAST_ID });
    const answered = c.next((m) => (m as Line).id === LAST_ID).catch(() => undefined);
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ANSWER_MS).unref());
    expect(await Promise.race([answered.then(() => 'ok'), late]), 'no answer in time').toBe('ok');
    return { lines: c.lines as Line[], closed: c.closed };
  } finally {
    c.close();
  }
}

/** Every error the agent sent carries an NSML_E_* code; a closed connection was told why. */
function checkAnswers({ lines, closed }: { lines: Line[]; closed: boolean }): void {
  if (process.env.NSML_FUZZ_VERBOSE) console.log(closed ? 'closed' : 'open', JSON.stringify(lines.filter((l) => l.type !== 'welcome')).slice(0, 2000));
  const errors = lines.filter((l) => l.type === 'error');
  for (const e of errors) expect(e.code, JSON.stringify(e).slice(0, 300)).toMatch(/^NSML_E_/);
  for (const r of lines.filter((l) => l.type === 'reply' && l.ok === false)) {
    expect((r.error as Line | undefined)?.code, JSON.stringify(r).slice(0, 300)).toMatch(/^NSML_E_/);
  }
  if (closed) expect(errors.length, `closed without an error line: ${JSON.stringify(lines).slice(0, 300)}`).toBeGreaterThan(0);
  for (const e of errors) expect(String(e.message).length, String(e.message).slice(0, 300)).toBeLessThanOrEqual(2_000);
}

/** The bystander still gets answers, and the server still listens. */
async function expectServing(): Promise<void> {
  const id = ++byeIds;
  bystander.send({ type: 'bye', id });
  await bystander.next((m) => (m as Line).id === id);
  expect(server.getStatus()).toMatchObject({ state: 'listening', handlerErrors: 0 });
}

// ---- hostile values ----

const weird = fc.constantFrom<unknown>(
  null, true, -1, 0, 1.5, -0, 1e308, -1e308, 2 ** 53, 2 ** 64, 'NaN', 'Infinity', '', 'x'.repeat(10_240), '\u0000\u202e\u001b[2J',
  '../..', '/', '/etc/passwd', [], {}, [[[[[]]]]], { type: 'hello' }, { __proto__: { polluted: 1 } }, { constructor: { prototype: {} } },
);
const anyJson = fc.oneof({ weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: weird });
const orWrong = <T>(right: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: right as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyJson });
/** A record of these fields, each there (half the time all of them are) unless dropped. */
function loose(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(fields);
  return fc.tuple(fc.record(fields), fc.oneof(fc.constant([]), fc.subarray(keys, { maxLength: Math.min(2, keys.length) }))).map(([full, dropped]) => {
    const out: Record<string, unknown> = { ...full };
    for (const k of dropped) delete out[k];
    return out;
  });
}
const text = (max: number) => fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: Math.min(max, 30) }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', 'a/b', 'a\u0000b', 'x'.repeat(max + 1)) },
);
const count = fc.oneof({ weight: 5, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 53, 1.5) });
const metricKey = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) }, { weight: 1, arbitrary: fc.constantFrom('', 'k'.repeat(257), 'a\u0007', '__proto__', 'constructor', 'loss') });
const metricValue = fc.oneof({ weight: 8, arbitrary: fc.double() }, { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', null, true, '1') });
const values = fc.dictionary(metricKey, metricValue, { maxKeys: 4 });
const path = fc.oneof(fc.constantFrom('/', '/etc', '/tmp', 'relative/dir', '', 'CKPT/../..', 'CKPT/nope'), { weight: 3, arbitrary: fc.constant('CKPT/save-1') }, text(30));
const record = loose({ ts_ms: orWrong(fc.double()), step: orWrong(fc.double()), values: orWrong(values), summary: orWrong(fc.boolean()) });

/** Messages of every kind the SDK may send, with the right type and hostile fields. */
const KINDS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  hello: loose({ v: orWrong(fc.constantFrom(1, 2, 0)), sdk: orWrong(text(100)), python: orWrong(text(100)), pid: orWrong(count), rank: orWrong(count), session: orWrong(text(200)) }),
  metrics: loose({ records: orWrong(fc.array(orWrong(record), { maxLength: 4 })), dropped: orWrong(count) }),
  event: loose({ ts_ms: orWrong(fc.double()), step: orWrong(fc.double()), kind: orWrong(fc.constantFrom('set', 'save', 'load', 'call', 'stop', 'boom')), name: anyJson, value: anyJson, old: anyJson, session: anyJson }),
  result: loose({
    id: orWrong(text(200)), ok: orWrong(fc.boolean()), step: orWrong(fc.double()), value: anyJson,
    error: orWrong(loose({ type: orWrong(text(200)), message: orWrong(text(100)), code: anyJson, traceback: anyJson })),
  }),
  save: loose({ id: orWrong(count), name: orWrong(text(200)), dir: orWrong(path), summary: orWrong(values) }),
  load: loose({ id: orWrong(count), name: orWrong(text(200)), session: orWrong(fc.oneof(text(200), fc.constantFrom(SESSION, 'other/mnist/2', null))) }),
  bye: loose({ id: orWrong(count) }),
};

function line(kind: string, fields: Record<string, unknown>): string {
  const json = JSON.stringify({ type: kind, ...fields }, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/^CKPT/, checkpointDir) : v));
  return json + '\n';
}

describe('fuzz: the SDK bridge answers bad input with NSML_E_* codes and keeps serving', () => {
  it('random bytes, with and without hello', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, hello) => {
      checkAnswers(await exchange(Buffer.concat([Buffer.from(bytes), Buffer.from('\n')]), hello));
    }), { numRuns: RUNS });
    await expectServing();
  });

  it('JSON that is not a message, and messages cut short', async () => {
    const cut = fc.tuple(fc.constantFrom(...Object.keys(KINDS)), fc.nat()).map(([kind, n]) => {
      const full = line(kind, { id: 1, records: [], v: 1 }).trimEnd();
      return full.slice(0, n % full.length);
    });
    const notMessage = fc.oneof(anyJson.map((v) => JSON.stringify(v)), cut, fc.constantFrom('{', '{"type":', '[]', '"hello"', '{"type":"hello"', 'null', '{"type":null}'));
    await fc.assert(fc.asyncProperty(notMessage, fc.boolean(), async (bad, hello) => {
      checkAnswers(await exchange(bad + '\n', hello));
    }), { numRuns: RUNS });
    await expectServing();
  });

  it.each(Object.keys(KINDS))('%s messages with hostile fields, with and without hello', async (kind) => {
    await fc.assert(fc.asyncProperty(fc.array(KINDS[kind]!, { minLength: 1, maxLength: 3 }), fc.boolean(), async (messages, hello) => {
      checkAnswers(await exchange(messages.map((m) => line(kind, m)).join(''), hello));
    }), { numRuns: RUNS });
    await expectServing();
  });

  it('a line over the size limit is refused with NSML_E_TOO_LARGE, without waiting for its end', async () => {
    const c = await RawClient.connect(server.socketPath);
    await c.hello();
    c.socket.write(Buffer.alloc(MAX_LINE_BYTES + 1, 0x20));
    await c.untilClosed();
    expect(c.lines.at(-1)).toMatchObject({ type: 'error', code: 'NSML_E_TOO_LARGE' });
    await expectServing();
  });

  it('a connection that leaves in the middle of a line, or floods lines and leaves, harms nobody', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(server.socketPath);
      await c.hello();
      c.socket.write(i % 2 === 0 ? '{"type":"metrics","records":[{"ts_ms":1,' : line('metrics', { records: [{ ts_ms: 1, step: i, values: { loss: 1 } }] }).repeat(200));
      c.socket.end();
      c.close();
    }
    await expectServing();
  });

  it('wrote only journal lines that the agent can ship', async () => {
    const connect = loadProto().nsml.v1.AgentService.service.Connect;
    const entries = (await readFile(journal, 'utf8').catch(() => '')).split('\n').filter((l) => l.length > 0);
    expect(entries.length).toBeGreaterThan(0);
    for (const [i, text] of entries.entries()) {
      const parsed = parseSdkLine(text);
      expect(parsed.ok, `${text.slice(0, 300)}: ${parsed.ok ? '' : parsed.reason}`).toBe(true);
      const shipped = entryMessage({ session: SESSION, epoch: 1, rank: 0 }, { seq: i + 1, text, tooLong: false } satisfies JournalEntry, () => false);
      expect(shipped.damage).toBeUndefined();
      expect(() => connect.requestSerialize(shipped.message)).not.toThrow();
    }
  });
});

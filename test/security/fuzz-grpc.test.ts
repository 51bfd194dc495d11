import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { ERROR_CODE_KEY } from '../../common/grpc/status.js';
import { startTestCoordinator, userMd, type TestCoordinator } from '../harness/test-coordinator.js';
import { type Rpc, listRpcs, loadDefinition } from './proto-arbitrary.js';

/**
 * A fuzz of every rpc of every service in proto/ against a real coordinator: random bytes as the
 * raw request, and structurally valid requests with hostile field values, sent anonymously and
 * as a valid caller. Every answer is a success or an error carrying an NSML_E_* code (never a
 * bare INTERNAL or UNKNOWN, never NSML_E_INTERNAL: that is a crash turned into a status), with a
 * message that does not echo kilobytes back, within a few seconds; the server stays up.
 */

/** The metadata of a valid caller. Whoever changes how callers are named changes this. */
function callerMetadata(): grpc.Metadata {
  return userMd('fuzz');
}

const RUNS = Number(process.env.NSML_FUZZ_RUNS ?? 30);
/** The longest a call may take to answer (its first message, or its status). */
const ANSWER_MS = 4_000;
/** An error message longer than this echoes too much of the request. */
const MAX_DETAILS_CHARS = 2_000;

interface Outcome {
  /** undefined: answered with a message (or still open and answering). */
  error?: grpc.ServiceError;
  ms: number;
}

const rpcs = listRpcs(loadDefinition());
const same = (b: Buffer) => b;
let t: TestCoordinator;
let raw: grpc.Client;

beforeAll(async () => {
  t = await startTestCoordinator();
  raw = new grpc.Client(t.coordinator.address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
});

afterAll(async () => {
  if (process.env.NSML_FUZZ_VERBOSE) for (const [path, counts] of answers) console.log(path, Object.fromEntries(counts));
  raw?.close();
  await t?.cleanup();
});

/** Sends `bodies` (one for a unary request) and waits for the first answer: a message or the status. */
function send(rpc: Rpc, bodies: Buffer[], metadata: grpc.Metadata): Promise<Outcome> {
  const started = Date.now();
  const options = { deadline: Date.now() + ANSWER_MS + 2_000 };
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    let stream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
    const settle = (error?: grpc.ServiceError) => {
      if (settled) return;
      settled = true;
      resolve({ error, ms: Date.now() - started });
      stream?.cancel();
    };
    const done = (err: grpc.ServiceError | null) => settle(err ?? undefined);
    if (!rpc.requestStream && !rpc.responseStream) {
      raw.makeUnaryRequest(rpc.path, same, same, bodies[0]!, metadata, options, done);
      return;
    }
    if (rpc.requestStream && !rpc.responseStream) {
      const call = raw.makeClientStreamRequest(rpc.path, same, same, metadata, options, done);
      for (const b of bodies) call.write(b);
      call.end();
      return;
    }
    if (rpc.requestStream) {
      const call = raw.makeBidiStreamRequest(rpc.path, same, same, metadata, options);
      stream = call;
      call.on('error', (err: grpc.ServiceError) => settle(err));
      for (const b of bodies) call.write(b);
      call.end();
    } else {
      stream = raw.makeServerStreamRequest(rpc.path, same, same, bodies[0]!, metadata, options);
      stream.on('error', (err: grpc.ServiceError) => settle(err));
    }
    stream.on('data', () => settle());
    stream.on('status', (s: grpc.StatusObject) => s.code === grpc.status.OK && settle());
  });
}

/** rpc → answer (OK or the NSML_E_* code) → count; printed with NSML_FUZZ_VERBOSE=1 to see how deep the fuzz reaches. */
const answers = new Map<string, Map<string, number>>();

function tally(rpc: Rpc, answer: string): void {
  const counts = answers.get(rpc.path) ?? new Map<string, number>();
  counts.set(answer, (counts.get(answer) ?? 0) + 1);
  answers.set(rpc.path, counts);
}

function check(rpc: Rpc, outcome: Outcome): void {
  expect(outcome.ms, `${rpc.path} answered after ${outcome.ms} ms`).toBeLessThan(ANSWER_MS);
  const err = outcome.error;
  const code = err?.metadata?.get(ERROR_CODE_KEY)[0];
  tally(rpc, err ? String(code ?? grpc.status[err.code]) : 'OK');
  if (!err) return;
  const what = `${rpc.path}: ${grpc.status[err.code]} ${String(err.details).slice(0, 300)}`;
  expect(code, what).toMatch(/^NSML_E_/);
  expect(code, what).not.toBe('NSML_E_INTERNAL');
  expect(err.details.length, what).toBeLessThanOrEqual(MAX_DETAILS_CHARS);
}

async function expectServing(): Promise<void> {
  const health = t.clients.health;
  const status = await new Promise<string>((resolve, reject) => {
    health.Check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(String(res?.status))));
  });
  expect(status).toBe('SERVING');
  expect(t.coordinator.getStatus().state).toBe('serving');
}

const metadataArb = fc.boolean().map((asCaller) => (asCaller ? callerMetadata() : new grpc.Metadata()));

describe('fuzz: every rpc answers bad input with an NSML_E_* code', () => {
  it('covers every rpc of every service in proto/', () => {
    expect(rpcs.length).toBeGreaterThan(25);
    expect(rpcs.map((r) => r.path)).toEqual(expect.arrayContaining(['/nsml.v1.SessionService/Submit', '/nsml.v1.AgentService/Connect', '/nsml.v1.BlobService/Put']));
  });

  it.each(rpcs.map((r) => [r.path, r] as const))('%s: random bytes', async (_path, rpc) => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: rpc.requestStream ? 3 : 1 }), metadataArb, async (bodies, md) => {
        check(rpc, await send(rpc, bodies.map((b) => Buffer.from(b)), md));
      }),
      { numRuns: RUNS },
    );
    await expectServing();
  });

  it.each(rpcs.map((r) => [r.path, r] as const))('%s: valid messages with hostile fields', async (_path, rpc) => {
    await fc.assert(
      fc.asyncProperty(fc.array(rpc.request, { minLength: 1, maxLength: rpc.requestStream ? 3 : 1 }), metadataArb, async (requests, md) => {
        check(rpc, await send(rpc, requests.map((r) => rpc.serialize(r)), md));
      }),
      { numRuns: RUNS },
    );
    await expectServing();
  });
});

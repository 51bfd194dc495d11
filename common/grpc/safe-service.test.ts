import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, NsmlError } from '../errors.js';
import { loadProto } from '../proto/load.js';
import { ERROR_CODE_KEY } from './status.js';
import { SafeServer } from './safe-service.js';

/** Bytes no protobuf decoder accepts: field 1000 with wire type 7. */
const GARBAGE = Buffer.from([0xc7, 0x3e]);
/** A valid HasRequest / GetBlobRequest / BlobChunk: field 1 as a short string. */
const VALID = Buffer.from([0x0a, 0x01, 0x61]);

let server: grpc.Server;
let raw: grpc.Client;
const seen: string[] = [];

beforeAll(async () => {
  const p = loadProto();
  server = new SafeServer();
  server.addService(p.nsml.v1.BlobService.service, {
    Has: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen.push('Has');
      if ((call.request as { hashes?: string[] }).hashes?.[0] === 'throw') throw new NsmlError(ErrorCodes.TOO_LARGE, 'thrown synchronously');
      cb(null, { missing: [] });
    },
    Get: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      seen.push('Get');
      call.end();
    },
    Put: (call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      let n = 0;
      call.on('data', () => seen.push(`Put data ${++n}`));
      call.on('end', () => cb(null, { hash: 'x', size: 0 }));
    },
  });
  server.addService(p.nsml.v1.AgentService.service, {
    Connect: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.on('data', () => seen.push('Connect data'));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  raw?.close();
  server?.forceShutdown();
});

const same = (b: Buffer) => b;
const deadline = () => ({ deadline: Date.now() + 5_000 });

function unary(path: string, body: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => raw.makeUnaryRequest(path, same, same, body, new grpc.Metadata(), deadline(), (err) => resolve(err)));
}

function serverStream(path: string, body: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = raw.makeServerStreamRequest(path, same, same, body, new grpc.Metadata(), deadline());
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('status', (s: grpc.StatusObject) => s.code === grpc.status.OK && resolve(null));
  });
}

function clientStream(path: string, bodies: Buffer[]): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = raw.makeClientStreamRequest(path, same, same, new grpc.Metadata(), deadline(), (err) => resolve(err));
    for (const b of bodies) call.write(b);
    call.end();
  });
}

function bidi(path: string, bodies: Buffer[]): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = raw.makeBidiStreamRequest(path, same, same, new grpc.Metadata(), deadline());
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('status', (s: grpc.StatusObject) => s.code === grpc.status.OK && resolve(null));
    for (const b of bodies) call.write(b);
    call.end();
  });
}

function expectMalformed(err: grpc.ServiceError | null, type: string): void {
  expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(err?.metadata.get(ERROR_CODE_KEY)).toEqual([ErrorCodes.MALFORMED_REQUEST]);
  expect(err?.details).toContain(`is not a valid ${type} message`);
}

describe('SafeServer', () => {
  it('answers a malformed unary request with NSML_E_MALFORMED_REQUEST, without calling the handler', async () => {
    seen.length = 0;
    expectMalformed(await unary('/nsml.v1.BlobService/Has', GARBAGE), 'nsml.v1.HasRequest');
    expect(seen).toEqual([]);
    expect(await unary('/nsml.v1.BlobService/Has', VALID)).toBeNull();
  });

  it('does so for a server-streaming request', async () => {
    seen.length = 0;
    expectMalformed(await serverStream('/nsml.v1.BlobService/Get', GARBAGE), 'nsml.v1.GetBlobRequest');
    expect(seen).toEqual([]);
    expect(await serverStream('/nsml.v1.BlobService/Get', VALID)).toBeNull();
  });

  it('does so for a bad message in a client stream, after the good ones reached the handler', async () => {
    seen.length = 0;
    expectMalformed(await clientStream('/nsml.v1.BlobService/Put', [VALID, VALID, GARBAGE, VALID]), 'nsml.v1.BlobChunk');
    expect(seen).toEqual(['Put data 1', 'Put data 2']);
    expect(await clientStream('/nsml.v1.BlobService/Put', [VALID])).toBeNull();
  });

  it('does so for a bad message in a bidirectional stream', async () => {
    seen.length = 0;
    const empty = Buffer.alloc(0);
    expectMalformed(await bidi('/nsml.v1.AgentService/Connect', [empty, GARBAGE, empty]), 'nsml.v1.AgentMessage');
    expect(seen.length).toBeLessThanOrEqual(1);
    expect(await bidi('/nsml.v1.AgentService/Connect', [empty])).toBeNull();
  });

  it('keeps the code of an error a handler throws synchronously (grpc-js would answer a bare UNKNOWN)', async () => {
    const body = Buffer.from([0x0a, 0x05, ...Buffer.from('throw')]);
    const err = await unary('/nsml.v1.BlobService/Has', body);
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.metadata.get(ERROR_CODE_KEY)).toEqual([ErrorCodes.TOO_LARGE]);
  });
});

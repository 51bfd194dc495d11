import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../proto/load.js';
import { type ClientTlsOptions, PLAINTEXT, compileClientTls, compileServerTls, serverCredentials } from './credentials.js';
import { type TestPki, makeTestPki } from './test-fixtures/test-pki.js';
import { classifyReply, explainUnavailable, probeProtocol } from './tls-probe.js';

describe('classifyReply', () => {
  it.each<[string, number[], string]>([
    ['a TLS alert', [0x15, 0x03, 0x03, 0x00, 0x02], 'tls'],
    ['a TLS handshake', [0x16, 0x03, 0x03, 0x00, 0x40], 'tls'],
    ['an HTTP/2 SETTINGS frame', [0x00, 0x00, 0x06, 0x04, 0x00], 'plaintext'],
    ['an HTTP/2 GOAWAY frame', [0x00, 0x00, 0x08, 0x07, 0x00], 'plaintext'],
    ['HTTP/1', [...Buffer.from('HTTP/1.1 400')], 'unknown'],
    ['nothing', [], 'unknown'],
  ])('%s is %s', (_name, bytes, speaks) => {
    expect(classifyReply(Buffer.from(bytes))).toBe(speaks);
  });
});

describe('probing a coordinator address', () => {
  let pki: TestPki;
  const servers: grpc.Server[] = [];
  const address: Record<'plain' | 'tls' | 'mutual', string> = { plain: '', tls: '', mutual: '' };
  let closedPort = 0;

  async function serve(creds: grpc.ServerCredentials): Promise<string> {
    const server = new grpc.Server();
    server.addService(loadProto().grpc.health.v1.Health.service, { Check: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { status: 'SERVING' }) });
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
    return `127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    pki = makeTestPki();
    address.plain = await serve(grpc.ServerCredentials.createInsecure());
    address.tls = await serve(serverCredentials(compileServerTls({ cert: pki.serverCert, key: pki.serverKey })));
    address.mutual = await serve(serverCredentials(compileServerTls({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca })));
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    closedPort = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
  });
  afterAll(() => {
    for (const s of servers) s.forceShutdown();
    pki?.cleanup();
  });

  it('tells TLS from plaintext from nobody', async () => {
    expect(await probeProtocol(address.tls)).toBe('tls');
    expect(await probeProtocol(address.mutual)).toBe('tls');
    expect(await probeProtocol(address.plain)).toBe('plaintext');
    expect(await probeProtocol(`127.0.0.1:${closedPort}`)).toBe('unreachable');
  });

  it.each<[string, 'plain' | 'tls' | 'mutual', (p: TestPki) => ClientTlsOptions | undefined, string | undefined]>([
    ['plaintext against TLS', 'tls', () => undefined, 'NSML_E_TLS_REQUIRED'],
    ['plaintext against mutual TLS', 'mutual', () => undefined, 'NSML_E_TLS_REQUIRED'],
    ['TLS against plaintext', 'plain', (p) => ({ ca: p.ca }), 'NSML_E_TLS_UNAVAILABLE'],
    ['the wrong CA', 'tls', (p) => ({ ca: p.otherCa }), 'NSML_E_TLS_VERIFY'],
    ['the default roots against a private CA', 'tls', () => ({ tls: true }), 'NSML_E_TLS_VERIFY'],
    ['no client certificate against mutual TLS', 'mutual', (p) => ({ ca: p.ca }), 'NSML_E_TLS_CLIENT_CERT'],
    ['a client certificate of another CA', 'mutual', (p) => ({ ca: p.ca, cert: p.otherClientCert, key: p.otherClientKey }), 'NSML_E_TLS_CLIENT_CERT'],
    ['matching TLS (nothing to explain)', 'tls', (p) => ({ ca: p.ca }), undefined],
    ['matching mutual TLS (nothing to explain)', 'mutual', (p) => ({ ca: p.ca, cert: p.clientCert, key: p.clientKey }), undefined],
    ['matching plaintext (nothing to explain)', 'plain', () => undefined, undefined],
  ])('%s: %s', async (_name, server, options, code) => {
    const o = options(pki);
    const err = await explainUnavailable(address[server], o ? compileClientTls(o) : PLAINTEXT);
    expect(err?.code).toBe(code);
    if (err) expect(err.message).toContain(address[server]);
  });

  it('says nothing about an address where nobody listens', async () => {
    expect(await explainUnavailable(`127.0.0.1:${closedPort}`, PLAINTEXT)).toBeUndefined();
    expect(await explainUnavailable(`127.0.0.1:${closedPort}`, compileClientTls({ ca: pki.ca }))).toBeUndefined();
  });
});

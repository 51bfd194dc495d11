import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../proto/load.js';
import { type ClientTls, type ClientTlsOptions, PLAINTEXT, clientTlsFromEnv, compileClientTls, compileServerTls, dial, hostOf, serverCredentials } from './credentials.js';
import { type TestPki, makeTestPki } from './test-fixtures/test-pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki?.cleanup());

describe('compileClientTls', () => {
  it('is plaintext when nothing is set', () => {
    expect(compileClientTls({})).toBe(PLAINTEXT);
    expect(compileClientTls()).toBe(PLAINTEXT);
  });

  it.each<[string, (p: TestPki) => ClientTlsOptions, { ca: boolean; cert: boolean }]>([
    ['--tls: the default roots', () => ({ tls: true }), { ca: false, cert: false }],
    ['--ca', (p) => ({ ca: p.ca }), { ca: true, cert: false }],
    ['--ca with a client certificate', (p) => ({ ca: p.ca, cert: p.clientCert, key: p.clientKey }), { ca: true, cert: true }],
  ])('%s is TLS', (_name, options, has) => {
    const tls = compileClientTls(options(pki));
    expect(tls.mode).toBe('tls');
    if (tls.mode !== 'tls') return;
    expect(tls.ca !== undefined).toBe(has.ca);
    expect(tls.cert !== undefined).toBe(has.cert);
  });

  it.each<[string, (p: TestPki) => ClientTlsOptions, RegExp]>([
    ['a certificate without its key', (p) => ({ ca: p.ca, cert: p.clientCert }), /--tls-cert \(NSML_TLS_CERT\) and --tls-key \(NSML_TLS_KEY\) go together/],
    ['a key without its certificate', (p) => ({ key: p.clientKey }), /go together; got only --tls-key/],
    ['a CA file that does not exist', (p) => ({ ca: `${p.dir}/nope.crt` }), /--ca \(NSML_CA\) .*nope\.crt: cannot read it/],
    ['a key given as the CA', (p) => ({ ca: p.serverKey }), /expected a PEM file with a "-----BEGIN CERTIFICATE-----" block/],
    ['a certificate given as the key', (p) => ({ ca: p.ca, cert: p.clientCert, key: p.clientCert }), /--tls-key \(NSML_TLS_KEY\).*BEGIN PRIVATE KEY/],
    ['a key that is not the certificate\'s', (p) => ({ ca: p.ca, cert: p.clientCert, key: p.otherClientKey }), /not usable .*check that the key belongs to the certificate/],
  ])('refuses %s with NSML_E_CONFIG', (_name, options, message) => {
    expect(() => compileClientTls(options(pki))).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG', message: expect.stringMatching(message) }));
  });
});

describe('compileServerTls', () => {
  it('is undefined (plaintext) without options, and reads the files with them', () => {
    expect(compileServerTls(undefined)).toBeUndefined();
    const tls = compileServerTls({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
    expect(tls?.clientCa?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it.each<[string, (p: TestPki) => { cert: string; key: string; clientCa?: string }, RegExp]>([
    ['a missing key', (p) => ({ cert: p.serverCert, key: '' }), /--tls-cert and --tls-key go together/],
    ['a certificate file that does not exist', (p) => ({ cert: `${p.dir}/x.crt`, key: p.serverKey }), /--tls-cert .*x\.crt: cannot read it/],
    ['a client CA that is a key', (p) => ({ cert: p.serverCert, key: p.serverKey, clientCa: p.clientKey }), /--client-ca .*BEGIN CERTIFICATE/],
    ['the wrong key', (p) => ({ cert: p.serverCert, key: p.clientKey }), /not usable/],
  ])('refuses %s with NSML_E_CONFIG', (_name, options, message) => {
    expect(() => compileServerTls(options(pki))).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG', message: expect.stringMatching(message) }));
  });
});

describe('clientTlsFromEnv', () => {
  it.each<[NodeJS.ProcessEnv, ClientTlsOptions]>([
    [{}, { ca: undefined, tls: false, cert: undefined, key: undefined }],
    [{ NSML_CA: '/ca.pem' }, { ca: '/ca.pem', tls: false, cert: undefined, key: undefined }],
    [{ NSML_TLS: '1' }, { ca: undefined, tls: true, cert: undefined, key: undefined }],
    [{ NSML_TLS: 'true', NSML_TLS_CERT: '/c', NSML_TLS_KEY: '/k' }, { ca: undefined, tls: true, cert: '/c', key: '/k' }],
    [{ NSML_TLS: '0', NSML_CA: '' }, { ca: undefined, tls: false, cert: undefined, key: undefined }],
  ])('%j', (env, expected) => {
    expect(clientTlsFromEnv(env)).toEqual(expected);
  });

  it('refuses an NSML_TLS it cannot read', () => {
    expect(() => clientTlsFromEnv({ NSML_TLS: 'maybe' })).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG' }));
  });
});

describe('hostOf', () => {
  it.each([
    ['127.0.0.1:7450', '127.0.0.1'],
    ['coord.example.org:7450', 'coord.example.org'],
    ['[::1]:7450', '::1'],
    ['localhost', 'localhost'],
  ])('%s → %s', (address, host) => expect(hostOf(address)).toBe(host));
});

describe('serverCredentials and dial', () => {
  let server: grpc.Server;
  let port: number;
  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(loadProto().grpc.health.v1.Health.service, { Check: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { status: 'SERVING' }) });
    const creds = serverCredentials(compileServerTls({ cert: pki.serverCert, key: pki.serverKey }));
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => server?.forceShutdown());

  function check(address: string, tls: ClientTls): Promise<string> {
    const { credentials, options } = dial(tls, address, {});
    const client = new (loadProto().grpc.health.v1.Health)(address, credentials, options);
    return new Promise<string>((resolve, reject) => {
      client.Check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(String(res?.status));
      });
    });
  }

  it.each(['127.0.0.1', 'localhost'])('verifies the server dialed as %s, with no warning for an IP address', async (host) => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(await check(`${host}:${port}`, compileClientTls({ ca: pki.ca }))).toBe('SERVING');
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('refuses a server its CA did not sign', async () => {
    await expect(check(`127.0.0.1:${port}`, compileClientTls({ ca: pki.otherCa }))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

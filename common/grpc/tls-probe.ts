import { randomBytes } from 'node:crypto';
import { connect as netConnect, isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { ErrorCodes, NsmlError, errorMessage } from '../errors.js';
import { type ClientTls, hostOf } from './credentials.js';

/**
 * Why a channel could not connect, when the cause is transport security: one raw look at the
 * address after a call failed UNAVAILABLE, so that a plaintext client against a TLS coordinator
 * (and the reverse, and a certificate that does not verify) gets a code, not a bare UNAVAILABLE.
 */

/** What the address answered to a TLS ClientHello. */
export type Speaks = 'tls' | 'plaintext' | 'unknown' | 'unreachable';

export const PROBE_TIMEOUT_MS = 2_000;

const TLS_ALERT = 0x15;
const TLS_HANDSHAKE = 0x16;
/** HTTP/2 frame types a server opens with or answers garbage with: SETTINGS, GOAWAY. */
const H2_SETTINGS = 0x04;
const H2_GOAWAY = 0x07;
/** The HTTP/2 client preface and an empty SETTINGS frame. */
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, H2_SETTINGS, 0, 0, 0, 0, 0])]);

/** A minimal TLS 1.2 ClientHello: any TLS server answers it with a handshake or an alert record. */
function clientHello(): Buffer {
  const suites = [0x1301, 0x1302, 0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009c, 0x002f];
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), randomBytes(32), Buffer.from([0x00]),
    Buffer.from([0x00, suites.length * 2]), Buffer.from(suites.flatMap((s) => [s >> 8, s & 0xff])),
    Buffer.from([0x01, 0x00]),
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([TLS_HANDSHAKE, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff]), handshake]);
}

/** Classifies the first bytes a server sent. */
export function classifyReply(first: Buffer): Speaks {
  if (first.length === 0) return 'unknown';
  if (first[0] === TLS_ALERT || first[0] === TLS_HANDSHAKE) return 'tls';
  if (first.length >= 4 && (first[3] === H2_SETTINGS || first[3] === H2_GOAWAY)) return 'plaintext';
  return 'unknown';
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Sends a ClientHello to `address` and looks at the first bytes of the reply. Never throws. */
export function probeProtocol(address: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Speaks> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: hostOf(address), port: portOf(address) });
    let connected = false;
    const done = (speaks: Speaks) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(speaks);
    };
    const timer = setTimeout(() => done(connected ? 'unknown' : 'unreachable'), timeoutMs);
    socket.once('connect', () => {
      connected = true;
      socket.write(clientHello());
    });
    socket.once('data', (chunk: Buffer) => done(classifyReply(chunk)));
    socket.once('error', () => done(connected ? 'unknown' : 'unreachable'));
    socket.once('close', () => done(connected ? 'unknown' : 'unreachable'));
  });
}

export type Handshake = { ok: true } | { ok: false; reason: 'verify' | 'client-cert' | 'other'; detail: string };

/**
 * A full TLS handshake with the client's own CA and certificate, then the HTTP/2 preface: tells a
 * server certificate that does not verify from a client certificate the server refused.
 */
export function probeHandshake(address: string, tls: Extract<ClientTls, { mode: 'tls' }>, timeoutMs = PROBE_TIMEOUT_MS): Promise<Handshake> {
  const host = hostOf(address);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host, port: portOf(address), secureContext: tls.context, ALPNProtocols: ['h2'], rejectUnauthorized: false,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    let handshaken = false;
    const done = (result: Handshake) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'other', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      handshaken = true;
      if (!socket.authorized) return done({ ok: false, reason: 'verify', detail: errorMessage(socket.authorizationError) });
      const mismatch = checkServerIdentity(host, socket.getPeerCertificate());
      if (mismatch) return done({ ok: false, reason: 'verify', detail: mismatch.message });
      socket.write(H2_PREFACE);
    });
    socket.once('data', () => done({ ok: true }));
    socket.once('error', (err) => done({ ok: false, reason: handshaken || /alert|certificate/i.test(err.message) ? 'client-cert' : 'other', detail: err.message }));
    socket.once('close', () => done({ ok: false, reason: handshaken ? 'client-cert' : 'other', detail: 'the server closed the connection' }));
  });
}

/**
 * After a call to `address` failed UNAVAILABLE: an NsmlError naming the transport-security
 * mismatch when there is one (NSML_E_TLS_REQUIRED, NSML_E_TLS_UNAVAILABLE, NSML_E_TLS_VERIFY,
 * NSML_E_TLS_CLIENT_CERT), else undefined (the coordinator is down or unreachable). Never throws.
 */
export async function explainUnavailable(address: string, tls: ClientTls, timeoutMs = PROBE_TIMEOUT_MS): Promise<NsmlError | undefined> {
  const speaks = await probeProtocol(address, timeoutMs);
  if (tls.mode === 'plaintext') {
    if (speaks !== 'tls') return undefined;
    return new NsmlError(
      ErrorCodes.TLS_REQUIRED,
      `the coordinator at ${address} speaks TLS and this client dialed in plaintext; pass --ca FILE (or NSML_CA=FILE) naming the CA that signed its certificate, or --tls (NSML_TLS=1) when a public CA signed it`,
    );
  }
  if (speaks === 'plaintext') {
    return new NsmlError(
      ErrorCodes.TLS_UNAVAILABLE,
      `the coordinator at ${address} does not speak TLS (it answered in plaintext HTTP/2); start it with --tls-cert and --tls-key, or dial it without --ca/--tls (unset NSML_CA, NSML_TLS, NSML_TLS_CERT)`,
    );
  }
  if (speaks !== 'tls') return undefined;
  const handshake = await probeHandshake(address, tls, timeoutMs);
  if (handshake.ok || handshake.reason === 'other') return undefined;
  if (handshake.reason === 'verify') {
    return new NsmlError(
      ErrorCodes.TLS_VERIFY,
      `the certificate of the coordinator at ${address} does not verify (${handshake.detail}); pass --ca (NSML_CA) naming the CA that signed it, and make its subjectAltName cover ${hostOf(address)}`,
    );
  }
  return new NsmlError(
    ErrorCodes.TLS_CLIENT_CERT,
    `the coordinator at ${address} wants a client certificate signed by its --client-ca and refused ${tls.cert ? 'this one' : 'this client, which sent none'} (${handshake.detail}); pass --tls-cert FILE --tls-key FILE (NSML_TLS_CERT, NSML_TLS_KEY)`,
  );
}

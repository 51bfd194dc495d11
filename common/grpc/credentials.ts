import * as grpc from '@grpc/grpc-js';
import type { ChannelOptions } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { ErrorCodes, NsmlError, errorMessage } from '../errors.js';

/**
 * The one seam between nsml and transport security: every gRPC server and channel gets its
 * credentials here. Files are read and checked once, at start (`compile…`); past that, a
 * `ClientTls` or `ServerTls` holds the PEM bytes.
 */

/** How a coordinator listens: plaintext unless `cert` and `key` are given. Paths to PEM files. */
export interface ServerTlsOptions {
  /** The server certificate chain (`--tls-cert`). */
  cert: string;
  /** Its private key (`--tls-key`). */
  key: string;
  /** When set, clients must present a certificate signed by this CA (`--client-ca`: mutual TLS). */
  clientCa?: string;
}

/** How a client (CLI, agent) dials. Paths to PEM files. Everything absent: plaintext. */
export interface ClientTlsOptions {
  /** The CA that signed the coordinator's certificate (`--ca`, NSML_CA); implies TLS. */
  ca?: string;
  /** TLS verified against the default roots (`--tls`, NSML_TLS=1): Node's CAs plus NODE_EXTRA_CA_CERTS. */
  tls?: boolean;
  /** The certificate this client presents to a coordinator that wants one (`--tls-cert`, NSML_TLS_CERT); implies TLS. */
  cert?: string;
  /** Its private key (`--tls-key`, NSML_TLS_KEY); given with `cert` or not at all. */
  key?: string;
}

export interface ServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa: Buffer | undefined;
}

export type ClientTls =
  | { readonly mode: 'plaintext' }
  | {
    readonly mode: 'tls';
    /** undefined: the default roots. */
    readonly ca: Buffer | undefined;
    readonly cert: Buffer | undefined;
    readonly key: Buffer | undefined;
    /** Built once from the three above; every channel of this client shares it. */
    readonly context: SecureContext;
  };

export const PLAINTEXT: ClientTls = { mode: 'plaintext' };

/** Server name sent instead of an IP address (RFC 6066 forbids IPs as SNI); identity is still checked against the IP. */
const IP_SERVER_NAME = 'nsml-coordinator';

function readPem(path: string, flag: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new NsmlError(ErrorCodes.CONFIG, `${flag} ${path}: cannot read it (${errorMessage(err)}); name a readable PEM file`, { cause: err });
  }
  const text = bytes.toString('latin1');
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    throw new NsmlError(ErrorCodes.CONFIG, `${flag} ${path}: expected a PEM file with a "-----BEGIN ${kind}-----" block; got none`);
  }
  return bytes;
}

function contextOf(parts: { ca?: Buffer; cert?: Buffer; key?: Buffer }, files: string): SecureContext {
  try {
    return createSecureContext({ ca: parts.ca, cert: parts.cert, key: parts.key });
  } catch (err) {
    throw new NsmlError(ErrorCodes.CONFIG, `${files}: not usable (${errorMessage(err)}); check that the key belongs to the certificate`, { cause: err });
  }
}

/** Reads and checks the server's certificate, key and optional client CA. */
export function compileServerTls(options: ServerTlsOptions | undefined): ServerTls | undefined {
  if (options === undefined) return undefined;
  if (!options.cert || !options.key) {
    throw new NsmlError(ErrorCodes.CONFIG, `--tls-cert and --tls-key go together; got ${options.cert ? 'no --tls-key' : 'no --tls-cert'}`);
  }
  const cert = readPem(options.cert, '--tls-cert', 'CERTIFICATE');
  const key = readPem(options.key, '--tls-key', 'PRIVATE KEY');
  const clientCa = options.clientCa ? readPem(options.clientCa, '--client-ca', 'CERTIFICATE') : undefined;
  contextOf({ cert, key, ca: clientCa }, `--tls-cert ${options.cert} with --tls-key ${options.key}`);
  return { cert, key, clientCa };
}

/** Reads and checks the client's CA and optional certificate; plaintext when nothing is set. */
export function compileClientTls(options: ClientTlsOptions = {}): ClientTls {
  if (Boolean(options.cert) !== Boolean(options.key)) {
    throw new NsmlError(ErrorCodes.CONFIG, `--tls-cert (NSML_TLS_CERT) and --tls-key (NSML_TLS_KEY) go together; got only ${options.cert ? '--tls-cert' : '--tls-key'}`);
  }
  if (!options.ca && !options.tls && !options.cert) return PLAINTEXT;
  const ca = options.ca ? readPem(options.ca, '--ca (NSML_CA)', 'CERTIFICATE') : undefined;
  const cert = options.cert ? readPem(options.cert, '--tls-cert (NSML_TLS_CERT)', 'CERTIFICATE') : undefined;
  const key = options.key ? readPem(options.key, '--tls-key (NSML_TLS_KEY)', 'PRIVATE KEY') : undefined;
  const files = [options.ca && `--ca ${options.ca}`, options.cert && `--tls-cert ${options.cert}`].filter(Boolean).join(' with ');
  return { mode: 'tls', ca, cert, key, context: contextOf({ ca, cert, key }, files || 'the default roots') };
}

/** The client TLS settings the environment names: NSML_CA, NSML_TLS (1/true/yes), NSML_TLS_CERT, NSML_TLS_KEY. */
export function clientTlsFromEnv(env: NodeJS.ProcessEnv): ClientTlsOptions {
  const flag = (env.NSML_TLS ?? '').trim().toLowerCase();
  if (!['', '0', 'false', 'no', '1', 'true', 'yes'].includes(flag)) {
    throw new NsmlError(ErrorCodes.CONFIG, `NSML_TLS must be 1 or 0; got ${JSON.stringify(env.NSML_TLS).slice(0, 40)}`);
  }
  return {
    ca: env.NSML_CA || undefined,
    tls: ['1', 'true', 'yes'].includes(flag),
    cert: env.NSML_TLS_CERT || undefined,
    key: env.NSML_TLS_KEY || undefined,
  };
}

/** Credentials for a gRPC server: TLS (mutual with a client CA) or plaintext. */
export function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

/** The host part of `HOST:PORT` or `[V6]:PORT`. */
export function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (v6) return v6[1]!;
  const i = address.lastIndexOf(':');
  return i > 0 ? address.slice(0, i) : address;
}

/**
 * Credentials and channel options to dial `address`. The server's certificate must cover the
 * host as dialed (a DNS name or an IP address in its subjectAltName).
 */
export function dial(tls: ClientTls | undefined, address: string, base: ChannelOptions): { credentials: grpc.ChannelCredentials; options: ChannelOptions } {
  if (!tls || tls.mode === 'plaintext') return { credentials: grpc.credentials.createInsecure(), options: base };
  const host = hostOf(address);
  if (isIP(host) === 0) return { credentials: grpc.credentials.createFromSecureContext(tls.context), options: base };
  const credentials = grpc.credentials.createFromSecureContext(tls.context, {
    checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
  });
  return { credentials, options: { ...base, 'grpc.ssl_target_name_override': IP_SERVER_NAME } };
}

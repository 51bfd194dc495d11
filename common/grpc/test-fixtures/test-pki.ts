import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files made with the `openssl` CLI for TLS tests: paths. */
export interface TestPki {
  dir: string;
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** The coordinator's certificate (subjectAltName IP:127.0.0.1, DNS:localhost) and key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by `ca`. */
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed nothing of the above. */
  otherCa: string;
  /** A client certificate signed by `otherCa`. */
  otherClientCert: string;
  otherClientKey: string;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new Error('the TLS tests need the openssl CLI: apt-get install -y openssl');
    throw err;
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSigned(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

function signed(dir: string, name: string, ca: string, extensions?: string): void {
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  const ext = extensions ? ['-extfile', `${name}.ext`] : [];
  if (extensions) writeFileSync(join(dir, `${name}.ext`), extensions + '\n');
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...ext]);
}

/** A fresh CA, server and client certificates in a temp folder. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-pki-'));
  selfSigned(dir, 'ca');
  selfSigned(dir, 'other-ca');
  signed(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  signed(dir, 'client', 'ca');
  signed(dir, 'other-client', 'other-ca');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.crt'),
    otherClientCert: p('other-client.crt'),
    otherClientKey: p('other-client.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

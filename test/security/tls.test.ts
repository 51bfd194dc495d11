import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliWith } from '../../cli/main.js';
import { captureIo } from '../../cli/io.js';
import { type TestPki, makeTestPki } from '../../common/grpc/test-fixtures/test-pki.js';
import { TestCluster } from '../harness/cluster.js';
import { startTestCoordinator, type TestCoordinator } from '../harness/test-coordinator.js';
import { makeWorkspace } from '../harness/workspace.js';

/**
 * TLS end to end: a coordinator started with --tls-cert/--tls-key (and --client-ca), agents that
 * join it with --ca (and a client certificate), the CLI verifying it; and every mismatch answered
 * with its own code within a few seconds, never a hang or a bare UNAVAILABLE.
 */

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki?.cleanup());

/** `nsml ARGS` in this process; the exit status, stderr and how long it took. */
async function nsmlHere(args: string[], env: Record<string, string>): Promise<{ status: number; stderr: string; ms: number }> {
  const io = captureIo({ env });
  const started = Date.now();
  const status = await runCliWith(args, io);
  return { status, stderr: io.stderr(), ms: Date.now() - started };
}

describe('a TLS coordinator', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({
      agents: 1,
      coordinatorArgs: ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey],
      env: { NSML_CA: pki.ca },
    });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('is joined by an agent that verifies it, and runs a session end to end', async () => {
    const nodes = await cluster.nodes();
    expect(nodes.map((n) => n.state)).toEqual(['ready']);
    const ws = makeWorkspace({ 'main.py': 'print("over tls", flush=True)\n' }, cluster.dir);
    const run = await cluster.nsml(['run', '-e', 'main.py'], { cwd: ws });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('over tls');
  });

  it('serves the CLI given the CA by `--ca FILE` as well as by NSML_CA', async () => {
    const r = await nsmlHere(['--ca', pki.ca, 'node', 'ls'], cluster.env({ NSML_CA: '' }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('answers a plaintext client with NSML_E_TLS_REQUIRED within a few seconds', async () => {
    const r = await nsmlHere(['node', 'ls'], cluster.env({ NSML_CA: '' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('NSML_E_TLS_REQUIRED');
    expect(r.stderr).toContain(cluster.address);
    expect(r.stderr).toContain('--ca');
    expect(r.ms).toBeLessThan(5_000);
  });

  it.each([
    ['the wrong CA', () => ({ NSML_CA: pki.otherCa })],
    ['the default roots (--tls) for a private CA', () => ({ NSML_CA: '', NSML_TLS: '1' })],
  ])('answers a client that trusts %s with NSML_E_TLS_VERIFY naming the address', async (_what, env) => {
    const r = await nsmlHere(['node', 'ls'], cluster.env(env()));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('NSML_E_TLS_VERIFY');
    expect(r.stderr).toContain(cluster.address);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('tells an agent that dials it in plaintext why it cannot join, in its log', async () => {
    await cluster.startAgentAt('plain', 'plain-node', join(cluster.dir, 'plain-node'), ['--ca', '']);
    await cluster.waitFor(() => cluster.agentStderr('plain').includes('NSML_E_TLS_REQUIRED'), 'the agent to log NSML_E_TLS_REQUIRED', 15_000);
    expect((await cluster.nodes()).map((n) => n.id)).not.toContain('plain-node');
  });
});

describe('a mutual-TLS coordinator (--client-ca)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({
      agents: 1,
      coordinatorArgs: ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--client-ca', pki.ca],
      env: { NSML_CA: pki.ca, NSML_TLS_CERT: pki.clientCert, NSML_TLS_KEY: pki.clientKey },
    });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('serves clients and agents that present a certificate its CA signed', async () => {
    expect((await cluster.nodes()).map((n) => n.state)).toEqual(['ready']);
  });

  it('refuses a client without a certificate with NSML_E_TLS_CLIENT_CERT', async () => {
    const r = await nsmlHere(['node', 'ls'], cluster.env({ NSML_TLS_CERT: '', NSML_TLS_KEY: '' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('NSML_E_TLS_CLIENT_CERT');
    expect(r.stderr).toContain('--tls-cert');
    expect(r.ms).toBeLessThan(5_000);
  });

  it('refuses an agent whose certificate another CA signed, and says why in its log', async () => {
    await cluster.startAgentAt('stranger', 'stranger', join(cluster.dir, 'stranger'), ['--tls-cert', pki.otherClientCert, '--tls-key', pki.otherClientKey]);
    await cluster.waitFor(() => cluster.agentStderr('stranger').includes('NSML_E_TLS_CLIENT_CERT'), 'the agent to log NSML_E_TLS_CLIENT_CERT', 15_000);
    expect((await cluster.nodes()).map((n) => n.id)).not.toContain('stranger');
  });
});

describe('a plaintext coordinator', () => {
  let t: TestCoordinator;
  let home: string;
  beforeAll(async () => {
    t = await startTestCoordinator();
    home = mkdtempSync(join(tmpdir(), 'nsml-home-'));
  });
  afterAll(async () => {
    await t?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers a TLS client with NSML_E_TLS_UNAVAILABLE', async () => {
    const r = await nsmlHere(['node', 'ls'], { NSML_HOME: home, NSML_COORDINATOR: t.coordinator.address, NSML_CA: pki.ca, NSML_TOKEN: 'x', NSML_USER: 'alice' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('NSML_E_TLS_UNAVAILABLE');
    expect(r.stderr).toContain(t.coordinator.address);
    expect(r.ms).toBeLessThan(5_000);
  });
});

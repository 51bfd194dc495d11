import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../common/blobs/upload.js';
import { CLIENT_CHANNEL_OPTIONS, tokenMetadata } from '../../common/grpc/options.js';
import { ERROR_CODE_KEY } from '../../common/grpc/status.js';
import { sha256 } from '../../common/hashing.js';
import { encodeManifest } from '../../common/manifest.js';
import { loadProto } from '../../common/proto/load.js';
import { FakeAgent } from '../harness/fake-agent.js';
import { startTestCoordinator, uploadWorkspace, userMd, type TestCoordinator } from '../harness/test-coordinator.js';
import { listRpcs, loadDefinition } from './proto-arbitrary.js';
import { execOutcome, openExec } from './exec-calls.js';

/**
 * The access matrix: every rpc × every kind of caller × the resource it names, against a real
 * coordinator over real gRPC. alice owns a running session S (placed on node n1, pinning her
 * private dataset D, with a checkpoint and her secret in its log), her workspace blob W;
 * S is shared with carol (read) and dave (read and control). Callers: nobody (no token), bob (another
 * user), alice (the owner), carol and dave (shared), root (an admin), n1 (the agent running S, on its
 * own and acting for S), n2 (the agent of another node, on its own and claiming to act for S).
 *
 * Each row says who is let through; everyone else must be refused with an authentication or
 * "not yours" code, and a listing must not show what the caller may not see. An rpc added to a
 * .proto without a row here fails the coverage test.
 */

const CALLERS = ['nobody', 'bob', 'alice', 'carol', 'dave', 'root', 'n1', 'n1-for-S', 'n2', 'n2-for-S'] as const;
type CallerName = (typeof CALLERS)[number];

/** Codes that mean "refused": no token, not allowed, or (for what the caller may not see) "there is none". */
const DENIED = new Set([
  'NSML_E_UNAUTHENTICATED', 'NSML_E_PERMISSION_DENIED', 'NSML_E_SESSION_NOT_FOUND', 'NSML_E_NOT_FOUND',
  'NSML_E_BLOB_NOT_FOUND', 'NSML_E_DATASET_NOT_FOUND',
]);

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

interface Row {
  rpc: string;
  /** Who gets through (the rest must be refused). */
  allow: readonly CallerName[];
  call: (md: grpc.Metadata) => Promise<Outcome>;
  /** For listings: whether the answer shows alice's resource (must hold exactly for `shows`). */
  shows?: (value: unknown) => boolean;
  /** Who must see alice's resource in the answer (defaults to `allow`). */
  visibleTo?: readonly CallerName[];
}

let t: TestCoordinator;
let n1: FakeAgent;
let n2: FakeAgent;
const p = loadProto();
const clients: Record<string, grpc.Client> = {};
let S = '';
let W = '';
let aliceSpareToken = '';
let beat: NodeJS.Timeout | undefined;
const D = 'dsalice';
const SECRET_LINE = 'alice-secret-AKIA1234';

function outcomeOf(err: grpc.ServiceError | null, value: unknown): Outcome {
  if (!err) return { ok: true, value };
  return { ok: false, code: String(err.metadata?.get(ERROR_CODE_KEY)?.[0] ?? `grpc ${err.code}`), message: err.details };
}

function unary(service: string, method: string, req: object, md: grpc.Metadata): Promise<Outcome> {
  const client = clients[service] as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>;
  return new Promise((resolve) => client[method]!.call(client, req, md, { deadline: new Date(Date.now() + 10_000) }, (e, v) => resolve(outcomeOf(e, v))));
}

/** A server stream: what it sent (within `ms`), or its error. */
function stream(service: string, method: string, req: object, md: grpc.Metadata, ms = 1_500): Promise<Outcome> {
  const client = clients[service] as unknown as Record<string, (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>>;
  return new Promise((resolve) => {
    const got: unknown[] = [];
    const call = client[method]!.call(client, req, md);
    const timer = setTimeout(() => {
      call.cancel();
      resolve({ ok: true, value: got });
    }, ms);
    call.on('data', (d) => got.push(d));
    call.on('error', (e: grpc.ServiceError) => {
      clearTimeout(timer);
      resolve(e.code === grpc.status.CANCELLED ? { ok: true, value: got } : outcomeOf(e, undefined));
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve({ ok: true, value: got });
    });
  });
}

function put(md: grpc.Metadata, data: Buffer): Promise<Outcome> {
  const blobs = clients.blob as unknown as { Put: (m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => grpc.ClientWritableStream<object> };
  return new Promise((resolve) => {
    const call = blobs.Put(md, (e, v) => resolve(outcomeOf(e, v)));
    call.write({ hash: sha256(data), size: data.length, offset: 0, data });
    call.end();
  });
}

const md: Record<CallerName, () => grpc.Metadata> = {
  nobody: () => new grpc.Metadata(),
  bob: () => userMd('bob'),
  alice: () => userMd('alice'),
  carol: () => userMd('carol'),
  dave: () => userMd('dave'),
  root: () => userMd('root', true),
  n1: () => tokenMetadata(FakeAgent.secrets.get('n1')!),
  'n1-for-S': () => tokenMetadata(FakeAgent.secrets.get('n1')!, S),
  n2: () => tokenMetadata(FakeAgent.secrets.get('n2')!),
  'n2-for-S': () => tokenMetadata(FakeAgent.secrets.get('n2')!, S),
};

const USERS = ['bob', 'alice', 'carol', 'dave', 'root'] as const;
const READERS_OF_S = ['alice', 'carol', 'dave', 'root'] as const;
const CONTROLLERS_OF_S = ['alice', 'dave', 'root'] as const;
const OWNERS_OF_S = ['alice', 'root'] as const;
const namesOf = (v: unknown, key: string) => ((v as Record<string, Array<{ name: string }>>)[key] ?? []).map((x) => x.name);

function rows(): Row[] {
  const manifestOf = async (caller: grpc.Metadata) => {
    const data = Buffer.from(`weights ${Math.random()}`);
    await uploadBytes(clients.blob as never, data, { metadata: caller });
    return (await uploadBytes(clients.blob as never, encodeManifest([{ path: 'w', mode: 0o644, size: data.length, hash: sha256(data) }]).bytes, { metadata: caller })).hash;
  };
  return [
    { rpc: '/grpc.health.v1.Health/Check', allow: CALLERS, call: (m) => unary('health', 'Check', {}, m) },
    { rpc: '/grpc.health.v1.Health/Watch', allow: CALLERS, call: (m) => stream('health', 'Watch', {}, m, 300) },
    // A share gives read of S's workspace: those it is shared with may run that code as themselves.
    { rpc: '/nsml.v1.SessionService/Submit', allow: READERS_OF_S, call: (m) => unary('session', 'Submit', { entry: 'main.py', workspace: W, gpus: 0 }, m) },
    {
      rpc: '/nsml.v1.SessionService/List', allow: USERS, visibleTo: READERS_OF_S,
      call: (m) => unary('session', 'List', { user: '*', all: true }, m), shows: (v) => namesOf(v, 'sessions').includes(S),
    },
    { rpc: '/nsml.v1.SessionService/Get', allow: READERS_OF_S, call: (m) => unary('session', 'Get', { name: S }, m) },
    { rpc: '/nsml.v1.SessionService/Wait', allow: READERS_OF_S, call: (m) => unary('session', 'Wait', { name: S, timeoutMs: 1 }, m) },
    {
      rpc: '/nsml.v1.SessionService/Logs', allow: READERS_OF_S, call: (m) => stream('session', 'Logs', { name: S, rank: -1 }, m),
      shows: (v) => JSON.stringify(v).includes(SECRET_LINE),
    },
    { rpc: '/nsml.v1.SessionService/Control', allow: CONTROLLERS_OF_S, call: (m) => unary('session', 'Control', { name: S, command: 'get', argsJson: '{"name":"lr"}', timeoutMs: 50 }, m) },
    { rpc: '/nsml.v1.SessionService/Metrics', allow: READERS_OF_S, call: (m) => unary('session', 'Metrics', { name: S }, m) },
    { rpc: '/nsml.v1.SessionService/Queue', allow: USERS, call: (m) => unary('session', 'Queue', {}, m) },
    { rpc: '/nsml.v1.SessionService/QueueWhy', allow: READERS_OF_S, call: (m) => unary('session', 'QueueWhy', { name: S }, m) },
    { rpc: '/nsml.v1.SessionService/Share', allow: OWNERS_OF_S, call: (m) => unary('session', 'Share', { name: S }, m) },
    // Running: an allowed Remove is answered NSML_E_SESSION_ACTIVE and removes nothing.
    { rpc: '/nsml.v1.SessionService/Remove', allow: OWNERS_OF_S, call: (m) => unary('session', 'Remove', { name: S }, m) },
    { rpc: '/nsml.v1.BlobService/Get', allow: [...READERS_OF_S, 'n1', 'n1-for-S'], call: (m) => stream('blob', 'Get', { hash: W, offset: 0 }, m) },
    {
      rpc: '/nsml.v1.BlobService/Has', allow: [...USERS, 'n1', 'n1-for-S', 'n2'],
      visibleTo: [...READERS_OF_S, 'n1', 'n1-for-S'],
      call: (m) => unary('blob', 'Has', { hashes: [W] }, m), shows: (v) => !(v as { missing: string[] }).missing.includes(W),
    },
    { rpc: '/nsml.v1.BlobService/Put', allow: [...USERS, 'n1-for-S'], call: (m) => put(m, Buffer.from(`bytes ${Math.random()}`)) },
    {
      rpc: '/nsml.v1.AdminService/ListNodes', allow: USERS, visibleTo: READERS_OF_S, call: (m) => unary('admin', 'ListNodes', {}, m),
      shows: (v) => (v as { nodes: Array<{ sessions: string[] }> }).nodes.some((n) => n.sessions.includes(S)),
    },
    { rpc: '/nsml.v1.AdminService/DrainNode', allow: ['root'], call: (m) => unary('admin', 'DrainNode', { id: 'n2', undrain: true }, m) },
    // n1 is connected: an allowed ForgetNode is answered NSML_E_NODE_BUSY and forgets nothing.
    { rpc: '/nsml.v1.AdminService/ForgetNode', allow: ['root'], call: (m) => unary('admin', 'ForgetNode', { id: 'n1' }, m) },
    { rpc: '/nsml.v1.AdminService/CollectGarbage', allow: ['root'], call: (m) => unary('admin', 'CollectGarbage', { dryRun: true }, m) },
    {
      rpc: '/nsml.v1.DatasetService/Commit', allow: OWNERS_OF_S,
      call: async (m) => unary('dataset', 'Commit', { name: D, manifest: await manifestOf(m).catch(() => W), readers: [] }, m),
    },
    {
      rpc: '/nsml.v1.DatasetService/List', allow: USERS, visibleTo: OWNERS_OF_S,
      call: (m) => unary('dataset', 'List', {}, m), shows: (v) => namesOf(v, 'datasets').includes(D),
    },
    { rpc: '/nsml.v1.DatasetService/Versions', allow: OWNERS_OF_S, call: (m) => unary('dataset', 'Versions', { name: D }, m) },
    { rpc: '/nsml.v1.DatasetService/Resolve', allow: OWNERS_OF_S, call: (m) => unary('dataset', 'Resolve', { name: D }, m) },
    // Pinned by S: an allowed Remove is answered NSML_E_DATASET_IN_USE and removes nothing.
    { rpc: '/nsml.v1.DatasetService/Remove', allow: OWNERS_OF_S, call: (m) => unary('dataset', 'Remove', { name: D, version: 1 }, m) },
    { rpc: '/nsml.v1.DatasetService/Share', allow: OWNERS_OF_S, call: (m) => unary('dataset', 'Share', { name: D, add: [], remove: [] }, m) },
    {
      rpc: '/nsml.v1.CheckpointService/Register', allow: [...OWNERS_OF_S, 'n1-for-S'],
      call: async (m) => unary('checkpoint', 'Register', { session: S, epoch: 1, name: `c${Math.floor(Math.random() * 1e9)}`, manifest: await manifestOf(m).catch(() => W), source: 'sdk' }, m),
    },
    { rpc: '/nsml.v1.CheckpointService/List', allow: [...READERS_OF_S, 'n1-for-S'], call: (m) => unary('checkpoint', 'List', { session: S }, m) },
    { rpc: '/nsml.v1.CheckpointService/Get', allow: [...READERS_OF_S, 'n1-for-S'], call: (m) => unary('checkpoint', 'Get', { session: S, name: 'first' }, m) },
    {
      // Each call removes a checkpoint the admin registered for it (a missing one would answer NOT_FOUND).
      rpc: '/nsml.v1.CheckpointService/Remove', allow: [...CONTROLLERS_OF_S, 'n1-for-S'],
      call: async (m) => {
        const name = `r${Math.floor(Math.random() * 1e9)}`;
        await unary('checkpoint', 'Register', { session: S, epoch: 1, name, manifest: await manifestOf(md.root()), source: 'sdk' }, md.root());
        return unary('checkpoint', 'Remove', { session: S, names: [name] }, m);
      },
    },
    { rpc: '/nsml.v1.UserService/WhoAmI', allow: CALLERS.filter((c) => c !== 'nobody' && c !== 'n2-for-S'), call: (m) => unary('user', 'WhoAmI', {}, m) },
    { rpc: '/nsml.v1.UserService/AddUser', allow: ['root'], call: (m) => unary('user', 'AddUser', { name: 'eve' }, m) },
    { rpc: '/nsml.v1.UserService/ListUsers', allow: ['root'], call: (m) => unary('user', 'ListUsers', {}, m) },
    { rpc: '/nsml.v1.UserService/CreateToken', allow: OWNERS_OF_S, call: (m) => unary('user', 'CreateToken', { user: 'alice', label: 'matrix' }, m) },
    { rpc: '/nsml.v1.UserService/ListTokens', allow: OWNERS_OF_S, call: (m) => unary('user', 'ListTokens', { user: 'alice' }, m) },
    { rpc: '/nsml.v1.UserService/RevokeToken', allow: OWNERS_OF_S, call: (m) => unary('user', 'RevokeToken', { id: aliceSpareToken }, m) },
    // S runs on n1 (a fake agent that never dials back): an allowed Exec waits for its dial-back.
    { rpc: '/nsml.v1.SessionService/Exec', allow: CONTROLLERS_OF_S, call: (m) => execOutcome(clients.session!, [{ start: { session: S, rank: 0, argv: ['true'] } }], m) },
    {
      // The dial-back of a terminal alice opened: only n1 acting for S may answer it.
      rpc: '/nsml.v1.AgentService/Exec', allow: ['n1-for-S'],
      call: async (m) => {
        const from = n1.received.length;
        const opener = openExec(clients.session!, S, md.alice());
        const streamId = await n1.next((x) => x.openExec?.streamId, 5_000, from);
        const out = await execOutcome(t.clients.agents as unknown as grpc.Client, [{ start: { streamId } }], m);
        opener.cancel();
        return out;
      },
    },
    // Last: an allowed Stop stops S.
    { rpc: '/nsml.v1.SessionService/Stop', allow: CONTROLLERS_OF_S, call: (m) => unary('session', 'Stop', { name: S, graceMs: 60_000 }, m) },
  ];
}

beforeAll(async () => {
  t = await startTestCoordinator();
  const creds = grpc.credentials.createInsecure();
  const a = t.coordinator.address;
  clients.session = new p.nsml.v1.SessionService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.blob = new p.nsml.v1.BlobService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.admin = new p.nsml.v1.AdminService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.dataset = new p.nsml.v1.DatasetService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.checkpoint = new p.nsml.v1.CheckpointService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.user = new p.nsml.v1.UserService(a, creds, CLIENT_CHANNEL_OPTIONS);
  clients.health = new p.grpc.health.v1.Health(a, creds, CLIENT_CHANNEL_OPTIONS);
  for (const u of ['bob', 'carol', 'dave']) userMd(u);

  n1 = new FakeAgent(t.clients.agents, 'n1');
  n1.register({ gpus: 1 });
  await n1.next((m) => m.registered ?? undefined);
  // D: alice's private dataset; S pins it.
  const dsManifest = await uploadWorkspace(t.clients.blobs, { 'train.txt': 'private rows' }, 'alice');
  const commit = await unary('dataset', 'Commit', { name: D, manifest: dsManifest, private: true, readers: [] }, userMd('alice'));
  expect(commit).toMatchObject({ ok: true });
  W = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print("alice code")\n' }, 'alice');
  const submitted = await unary('session', 'Submit', { entry: 'main.py', workspace: W, gpus: 1, datasets: [D] }, userMd('alice'));
  expect(submitted).toMatchObject({ ok: true });
  S = (submitted as { value: { name: string } }).value.name;
  await n1.next((m) => (m.start?.session === S ? m.start : undefined));
  n1.sendStatus(S, 1, 0, 'running');
  n1.logs(S, 1, 0, [{ seq: 1, text: SECRET_LINE }]);
  n2 = new FakeAgent(t.clients.agents, 'n2');
  n2.register({ gpus: 1 });
  await n2.next((m) => m.registered ?? undefined);
  // Both nodes stay alive (n1 running S) for as long as the test runs.
  beat = setInterval(() => {
    n1.heartbeat([{ session: S, epoch: 1, rank: 0, pid: 4242, state: 'running' }]);
    n2.heartbeat();
  }, 200);
  // A checkpoint of S, saved by the agent running it.
  const data = Buffer.from('alice weights');
  const asN1 = { metadata: md['n1-for-S']() };
  await uploadBytes(t.clients.blobs, data, asN1);
  const ckpt = (await uploadBytes(t.clients.blobs, encodeManifest([{ path: 'model.pt', mode: 0o644, size: data.length, hash: sha256(data) }]).bytes, asN1)).hash;
  expect(await unary('checkpoint', 'Register', { session: S, epoch: 1, name: 'first', manifest: ckpt, source: 'sdk' }, md['n1-for-S']())).toMatchObject({ ok: true });
  expect(await unary('session', 'Share', { name: S, user: 'carol', role: 'read' }, userMd('alice'))).toMatchObject({ ok: true });
  expect(await unary('session', 'Share', { name: S, user: 'dave', role: 'control' }, userMd('alice'))).toMatchObject({ ok: true });
  const spare = await unary('user', 'CreateToken', { label: 'spare' }, userMd('alice'));
  aliceSpareToken = (spare as { value: { info: { id: string } } }).value.info.id;
  // Wait until S's log line is stored (the owner can read it).
  for (let i = 0; i < 100; i++) {
    const r = await stream('session', 'Logs', { name: S, rank: -1 }, userMd('alice'), 300);
    if (r.ok && JSON.stringify(r.value).includes(SECRET_LINE)) break;
  }
}, 30_000);

afterAll(async () => {
  clearInterval(beat);
  n1?.close();
  n2?.close();
  for (const c of Object.values(clients)) c.close();
  await t?.cleanup();
});

describe('the access matrix: every rpc × every caller', () => {
  const matrix = rows();

  it('has a row for every rpc the coordinator serves (the agent stream is tested below)', () => {
    const served = listRpcs(loadDefinition()).map((r) => r.path).filter((path) => path !== '/nsml.v1.AgentService/Connect');
    expect(served.filter((path) => !matrix.some((row) => row.rpc === path))).toEqual([]);
  });

  for (const row of matrix) {
    it(`${row.rpc}: let through ${row.allow.join(', ')}; everyone else refused`, async () => {
      const leaks: string[] = [];
      const ordered = [...CALLERS.filter((c) => !row.allow.includes(c)), ...CALLERS.filter((c) => row.allow.includes(c))];
      for (const caller of ordered) {
        const out = await row.call(md[caller]());
        const allowed = row.allow.includes(caller);
        const refused = !out.ok && DENIED.has(out.code);
        if (allowed && refused) leaks.push(`${caller} was refused: ${out.code} ${out.message}`);
        if (!allowed && !refused) leaks.push(`${caller} got through: ${out.ok ? JSON.stringify(out.value).slice(0, 200) : `${out.code} ${out.message}`}`);
        if (row.shows && out.ok) {
          const shouldSee = (row.visibleTo ?? row.allow).includes(caller);
          if (row.shows(out.value) !== shouldSee) leaks.push(`${caller} ${shouldSee ? 'does not see' : 'sees'} alice's resource`);
        }
        if (!out.ok && out.message.includes(SECRET_LINE)) leaks.push(`${caller}'s error carries alice's secret`);
      }
      expect(leaks).toEqual([]);
    });
  }
});

describe('what an agent may report', () => {
  it('a node reports only on ranks placed on it: n2 cannot write into S', async () => {
    n2.logs(S, 1, 0, [{ seq: 2, text: 'forged by n2' }]);
    n2.send({ metricBatch: { session: S, epoch: 1, rank: 0, seq: 1, points: [{ key: 'loss', value: 666, step: 1, tsMs: Date.now() }] } } as never);
    n2.sendStatus(S, 1, 0, 'exited', { exitCode: 0 });
    await new Promise((r) => setTimeout(r, 500));
    const logs = await stream('session', 'Logs', { name: S, rank: -1 }, userMd('alice'), 500);
    expect(JSON.stringify(logs)).not.toContain('forged by n2');
    const metrics = await unary('session', 'Metrics', { name: S }, userMd('alice'));
    expect(JSON.stringify(metrics)).not.toContain('666');
    const s = await unary('session', 'Get', { name: S }, userMd('alice'));
    expect((s as { value: { state: string } }).value.state).not.toBe('succeeded');
  });

  it('an agent that presents another credential (a forged one, or a user token) cannot take over n1', async () => {
    for (const nodeSecret of ['nsmln_' + 'A'.repeat(36), md.alice().get('authorization')[0]!.toString().slice('Bearer '.length)]) {
      const intruder = new FakeAgent(t.clients.agents, 'n1');
      intruder.register({ nodeSecret });
      const ended = await intruder.waitEnded();
      expect(ended?.metadata.get(ERROR_CODE_KEY)[0]).toBe('NSML_E_NODE_ID_TAKEN');
      intruder.close();
    }
    const nodes = await unary('admin', 'ListNodes', {}, userMd('root', true));
    expect((nodes as { value: { nodes: Array<{ id: string; sessions: string[] }> } }).value.nodes.find((n) => n.id === 'n1')?.sessions).toContain(S);
  });
});

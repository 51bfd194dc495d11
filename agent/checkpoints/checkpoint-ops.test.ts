// Runs the agent's checkpoint ops against a real coordinator started in this process (the
// coordinator's own test harness and scripted agent place the sessions), and the real Python SDK
// through a real bridge server.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNsmlError, type NsmlError } from '../../common/errors.js';
import { sha256 } from '../../common/hashing.js';
import { silentLogger } from '../../common/log.js';
import type { Session__Output } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';
import { startBridgeServer, type BridgeServer } from '../bridge/bridge-server.js';
import { listCheckpointFiles } from '../bridge/checkpoint-files.js';
import type { BridgeHandler } from '../bridge/handler.js';
import { MemoryBridgeHandler } from '../bridge/memory-handler.js';
import { runPython } from '../bridge/test-fixtures/python.js';
import { BlobCache } from '../cache/blob-cache.js';
import { createGrpcBlobSource, type BlobSource } from '../cache/blob-source.js';
import { checkpointOpsFactory, createCheckpointClients, createCheckpointOps, type CheckpointOps } from './index.js';

/** runPython resolves scripts against agent/bridge/test-fixtures/. */
const SCRIPT = '../../checkpoints/test-fixtures/train-checkpoints.py';

let t: TestCoordinator;
let agent: FakeAgent;
let dir: string;
let workspace: string;
const closers: Array<() => unknown> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nsml-ckpt-ops-'));
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  agent = new FakeAgent(t.clients.agents, 'n1');
  agent.register({ gpus: 1 });
  await agent.next((m) => m.registered ?? undefined);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  agent.close();
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A session of `user` placed on the scripted agent (epoch 1). */
async function placedSession(user = 'alice'): Promise<string> {
  const ws = user === 'alice' ? workspace : await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' }, user);
  const s = await unaryCall(t.clients.sessions, t.clients.sessions.Submit, { entry: 'main.py', workspace: ws }, user) as Session__Output;
  await agent.next((m) => (m.start?.session === s.name ? m.start : undefined));
  return s.name;
}

/** The credential the coordinator issued to the scripted agent n1: the ops act for sessions placed on it. */
const nodeCredential = (): string => FakeAgent.secrets.get('n1') ?? '';

/** A blob cache of its own, as on another node. */
function nodeCache(name: string): BlobCache {
  const source: BlobSource = createGrpcBlobSource(t.coordinator.address, undefined, nodeCredential);
  closers.push(() => source.close());
  return new BlobCache(join(dir, name, 'blobs'), source);
}

function opsFor(session: string, options: { user?: string; epoch?: number; cache?: BlobCache } = {}): CheckpointOps {
  const clients = createCheckpointClients(t.coordinator.address, undefined, nodeCredential);
  closers.push(() => clients.close());
  const ops = createCheckpointOps({
    clients, blobCache: options.cache ?? nodeCache(`node-${closers.length}`), session,
    epoch: options.epoch ?? 1, user: options.user ?? 'alice', workDir: join(dir, 'loads'), logger: silentLogger,
  });
  closers.push(() => ops.close());
  return ops;
}

/** Writes files (path → text) under a fresh folder; returns the save request's files. */
async function checkpointFiles(files: Record<string, string>) {
  const root = await mkdtemp(join(dir, 'save-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return { dir: root, files: (await listCheckpointFiles(root)).files };
}

async function rejection(p: Promise<unknown>): Promise<NsmlError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!isNsmlError(err)) throw new Error(`expected an NsmlError, got ${String(err)}`);
  return err;
}

describe('createCheckpointOps', () => {
  it('saves a file and a folder, sends only what the coordinator lacks, and loads them as read-only links', async () => {
    const session = await placedSession();
    const cache = nodeCache('first');
    const ops = opsFor(session, { cache });
    const file = await checkpointFiles({ model: 'w'.repeat(5000) });
    const first = await ops.save({ name: '1', source: 'sdk', ...file, summary: { 'val/acc': 0.5 } });
    expect(first).toMatchObject({ files: 1, bytes: 5000 });
    expect(first.uploadedBytes).toBeGreaterThan(5000); // the file and the manifest
    expect(await ops.save({ name: '2', source: 'sdk', ...file, summary: {} })).toEqual({ files: 1, bytes: 5000, uploadedBytes: 0 });
    const folder = await checkpointFiles({ 'model/encoder.bin': 'enc', 'model/sub/decoder.bin': 'dec' });
    expect(await ops.save({ name: 'best', source: 'watcher', ...folder, summary: {} })).toMatchObject({ files: 2, bytes: 6 });

    const loaded = await ops.load({ session: null, name: 'best' });
    expect(await readFile(join(loaded.dir, 'model', 'sub', 'decoder.bin'), 'utf8')).toBe('dec');
    const info = await stat(join(loaded.dir, 'model', 'encoder.bin'));
    expect(info.mode & 0o222).toBe(0);
    expect(info.ino).toBe((await stat(cache.path(sha256('enc')))).ino);
    const again = await ops.load({ session: null, name: '1' });
    expect(again.dir).not.toBe(loaded.dir);
    expect(await readFile(join(again.dir, 'model'), 'utf8')).toBe('w'.repeat(5000));
  });

  it('loads a checkpoint of another session of the same user on another node', async () => {
    const first = await placedSession();
    const second = await placedSession();
    await opsFor(first).save({ name: 'ep3', source: 'sdk', ...(await checkpointFiles({ model: 'trained' })), summary: {} });
    const r = await opsFor(second).load({ session: first, name: 'ep3' });
    expect(await readFile(join(r.dir, 'model'), 'utf8')).toBe('trained');
  });

  it('answers a missing checkpoint with NSML_E_NOT_FOUND and the names that exist', async () => {
    const session = await placedSession();
    const ops = opsFor(session);
    const files = await checkpointFiles({ model: 'x' });
    for (const name of ['1', '2']) await ops.save({ name, source: 'sdk', ...files, summary: {} });
    const err = await rejection(ops.load({ session: null, name: '9' }));
    expect(err.code).toBe('NSML_E_NOT_FOUND');
    expect(err.message).toContain('existing: 2, 1');
    expect(err.details).toEqual({ session, existing: ['2', '1'] });
  });

  it('rejects with an NsmlError and registers nothing when a save cannot finish', async () => {
    const session = await placedSession();
    const ops = opsFor(session);
    const files = await checkpointFiles({ model: 'x' });
    await rm(files.files[0]!.local);
    expect((await rejection(ops.save({ name: 'gone', source: 'sdk', ...files, summary: {} }))).code).toBe('NSML_E_FILE_CHANGED');
    const ahead = opsFor(session, { epoch: 2 });
    expect((await rejection(ahead.save({ name: 'ahead', source: 'sdk', ...(await checkpointFiles({ model: 'y' })), summary: {} }))).code).toBe('NSML_E_INVALID_ARGUMENT');
    expect((await rejection(ops.load({ session: null, name: 'gone' }))).details).toEqual({ session, existing: [] });
  });

  it('makes ops per rank over shared clients, loading beside the checkpoint folder', async () => {
    const session = await placedSession();
    const clients = createCheckpointClients(t.coordinator.address, undefined, nodeCredential);
    closers.push(() => clients.close());
    const rankDir = join(dir, 'rank-folder');
    const ops = checkpointOpsFactory({ clients, blobCache: nodeCache('shared'), logger: silentLogger })({
      session, epoch: 1, user: 'alice', checkpointDir: join(rankDir, 'checkpoints'),
    });
    await ops.save({ name: 'x', source: 'sdk', ...(await checkpointFiles({ model: 'm' })), summary: {} });
    const { dir: loaded } = await ops.load({ session: null, name: 'x' });
    expect(loaded.startsWith(join(rankDir, 'loaded-checkpoints') + '/')).toBe(true);
    ops.close();
    expect((await ops.save({ name: 'y', source: 'sdk', ...(await checkpointFiles({ model: 'n' })), summary: {} })).files).toBe(1);
  });

  it("refuses another user's session", async () => {
    const mine = await placedSession('alice');
    const theirs = await placedSession('bob');
    await opsFor(theirs, { user: 'bob' }).save({ name: '1', source: 'sdk', ...(await checkpointFiles({ model: 'b' })), summary: {} });
    expect((await rejection(opsFor(mine).load({ session: theirs, name: '1' }))).code).toBe('NSML_E_SESSION_NOT_FOUND');
  });
});

describe('the Python SDK through a bridge server backed by the ops', () => {
  async function serve(session: string): Promise<{ server: BridgeServer; env: Record<string, string> }> {
    const ops = opsFor(session);
    const memory = new MemoryBridgeHandler(session, join(dir, 'unused'));
    const handler: BridgeHandler = {
      onMetrics: (b, p) => memory.onMetrics(b, p),
      onEvent: (e, p) => memory.onEvent(e, p),
      onCommandResult: (r, p) => memory.onCommandResult(r, p),
      saveCheckpoint: (r) => ops.save(r),
      loadCheckpoint: (r) => ops.load(r),
    };
    const root = await mkdtemp(join(dir, 'rank-'));
    const checkpointDir = join(root, 'checkpoints');
    await mkdir(checkpointDir);
    const server = await startBridgeServer({ socketPath: join(root, 'b.sock'), session, handler, checkpointDir, logger: silentLogger });
    closers.push(() => server.close(200));
    const env = {
      NSML_AGENT_SOCKET: server.socketPath, NSML_SESSION: session, NSML_USER: 'alice', NSML_RANK: '0', NSML_WORLD_SIZE: '1',
      NSML_CHECKPOINT_DIR: checkpointDir, NSML_FLUSH_INTERVAL_MS: '50',
    };
    return { server, env };
  }

  async function runScript(args: string[], env: Record<string, string>): Promise<Record<string, any>> {
    const run = runPython(SCRIPT, args, env, dir);
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(0);
    const line = run.stdout().split('\n').find((l) => l.startsWith('RESULT '));
    return JSON.parse(line!.slice('RESULT '.length)) as Record<string, any>;
  }

  it('saves per epoch in both NSML shapes and loads them from a second session', async () => {
    const first = await placedSession();
    const second = await placedSession();
    const saved = await runScript(['save'], (await serve(first)).env);
    expect(saved.own).toEqual({ text: 'weights of epoch 2' });
    expect(saved.broken).toBe('disk on fire');
    expect(saved.saves['same-a'].uploaded_bytes).toBeGreaterThan(0);
    expect(saved.saves['same-b']).toMatchObject({ files: 1, uploaded_bytes: 0 });
    expect(saved.saves.best).toMatchObject({ files: 2, bytes: 14_000 });
    const loaded = await runScript(['load', first], (await serve(second)).env);
    expect(loaded.epoch2).toEqual({ text: 'weights of epoch 2' });
    expect(loaded.best).toEqual({ files: ['decoder.bin', 'encoder.bin'], first: 'decoder'.repeat(3).slice(0, 20) });
    expect(loaded.missing.existing).toEqual(['1', '2', '3', 'best', 'same-a', 'same-b']);
    expect(loaded.missing.message).toContain('does not exist');
  });
});

// The agent's side of `nsml.save` of a large checkpoint (hash, Has, Put of what is missing,
// manifest, Register) against a coordinator in its own process on this machine, next to `cp` of
// the same files on the same disk; then a save of the unchanged files under another name (0
// bytes sent), and a load into an empty blob cache (as on another node). Figures only.
//
//   npm run build && node dist/bench/checkpoint-save.js [--mib 1024] [--files 4]
import * as grpc from '@grpc/grpc-js';
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCheckpointFiles } from '../agent/bridge/checkpoint-files.js';
import { BlobCache } from '../agent/cache/blob-cache.js';
import { createGrpcBlobSource } from '../agent/cache/blob-source.js';
import { createCheckpointOps } from '../agent/checkpoints/index.js';
import { uploadBytes } from '../common/blobs/upload.js';
import { readFileSync } from 'node:fs';
import { AGENT_CHANNEL_OPTIONS, CLIENT_CHANNEL_OPTIONS, tokenMetadata } from '../common/grpc/options.js';
import { adminTokenPath } from '../coordinator/auth/bootstrap.js';
import { createCheckpointClients } from '../agent/checkpoints/checkpoint-client.js';
import { silentLogger } from '../common/log.js';
import { encodeManifest } from '../common/manifest.js';
import { loadProto } from '../common/proto/load.js';
import type { AgentServiceClient, BlobServiceClient, CoordinatorMessage__Output, Session__Output, SessionServiceClient } from '../common/proto/types.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MIB = arg('mib', 1024);
const FILES = arg('files', 4);
const MB = 1_000_000;
const USER = 'bench';

/** Writes FILES files of random bytes, MIB MiB in all, as a 2019-style checkpoint folder `model/`. */
function makeCheckpoint(root: string): number {
  const size = Math.floor((MIB * 1024 * 1024) / FILES);
  mkdirSync(join(root, 'model'), { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const file = join(root, 'model', `part-${i}.bin`);
    for (let at = 0; at < size; at += 64 * 1024 * 1024) writeFileSync(file, randomBytes(Math.min(64 * 1024 * 1024, size - at)), { flag: at === 0 ? 'w' : 'a' });
  }
  return size * FILES;
}

/** Joins as a node and submits a session, so that it is placed (epoch 1) on that node. */
async function placedSession(address: string, token: string): Promise<{ session: string; nodeSecret: () => string; close: () => void }> {
  const proto = loadProto();
  const creds = grpc.credentials.createInsecure();
  const agents = new proto.nsml.v1.AgentService(address, creds, AGENT_CHANNEL_OPTIONS) as AgentServiceClient;
  const sessions = new proto.nsml.v1.SessionService(address, creds, CLIENT_CHANNEL_OPTIONS) as SessionServiceClient;
  const stream = agents.Connect();
  let secret = '';
  stream.on('data', (m: CoordinatorMessage__Output) => { if (m.registered?.nodeSecret) secret = m.registered.nodeSecret; });
  const started = new Promise<string>((resolve) => stream.on('data', (m: CoordinatorMessage__Output) => m.start && resolve(m.start.session)));
  stream.on('error', () => undefined);
  stream.write({ register: { nodeId: 'bench-node', inventory: { hostname: 'bench-node', cpus: 8, memoryMib: 65536, gpus: [] }, running: [] } });
  await new Promise((r) => setTimeout(r, 300));
  const md = tokenMetadata(token);
  const blobs = new proto.nsml.v1.BlobService(address, creds, CLIENT_CHANNEL_OPTIONS) as BlobServiceClient;
  const main = await uploadBytes(blobs, Buffer.from('print(1)\n'), { metadata: md });
  const workspace = (await uploadBytes(blobs, encodeManifest([{ path: 'main.py', mode: 0o644, size: 9, hash: main.hash }]).bytes, { metadata: md })).hash;
  blobs.close();
  await new Promise<Session__Output>((resolve, reject) => sessions.Submit({ entry: 'main.py', workspace }, md, { deadline: new Date(Date.now() + 10_000) },
    (err, s) => (err ? reject(err) : resolve(s!))));
  const session = await started;
  return { session, nodeSecret: () => secret, close: () => { stream.cancel(); agents.close(); sessions.close(); } };
}

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; s: number }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const dir = mkdtempSync(join(tmpdir(), 'nsml-bench-ckpt-'));
const child = fork(fileURLToPath(new URL('./coordinator-child.js', import.meta.url)), [join(dir, 'coordinator')], { stdio: 'inherit' });
try {
  const root = join(dir, 'save');
  const bytes = makeCheckpoint(root);
  execFileSync('sync');
  console.log(`checkpoint: ${FILES} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB in ${root} (${cpus().length} cores)`);
  const cpS = seconds(() => execFileSync('cp', ['-r', root, join(dir, 'copy')]));
  rmSync(join(dir, 'copy'), { recursive: true, force: true });
  console.log(`cp -r:          ${cpS.toFixed(2)} s, ${(bytes / MB / cpS).toFixed(0)} MB/s`);

  const address = await new Promise<string>((resolve) => child.once('message', (m) => resolve((m as { address: string }).address)));
  const placed = await placedSession(address, readFileSync(adminTokenPath(join(dir, 'coordinator')), 'utf8').trim());
  const cacheOf = (name: string) => new BlobCache(join(dir, name, 'blobs'), createGrpcBlobSource(address, undefined, placed.nodeSecret));
  const ops = createCheckpointOps({
    clients: createCheckpointClients(address, undefined, placed.nodeSecret), blobCache: cacheOf('node-a'), session: placed.session, epoch: 1, user: USER,
    workDir: join(dir, 'node-a', 'loads'), logger: silentLogger,
  });
  const { files } = await listCheckpointFiles(root);
  const first = await timed(() => ops.save({ name: '1', source: 'sdk', dir: root, files, summary: { 'val/acc': 0.5 } }));
  console.log(`save:           ${first.s.toFixed(2)} s, ${(bytes / MB / first.s).toFixed(0)} MB/s (${(100 * (bytes / first.s) / (bytes / cpS)).toFixed(0)} % of cp), sent ${(first.value.uploadedBytes / 1024 / 1024).toFixed(0)} MiB; load average ${loadavg()[0]!.toFixed(1)}`);
  const again = await timed(() => ops.save({ name: '2', source: 'sdk', dir: root, files, summary: {} }));
  console.log(`save unchanged: ${again.s.toFixed(2)} s (hashing only), sent ${again.value.uploadedBytes} bytes`);

  const other = createCheckpointOps({
    clients: createCheckpointClients(address, undefined, placed.nodeSecret), blobCache: cacheOf('node-b'), session: placed.session, epoch: 1, user: USER,
    workDir: join(dir, 'node-b', 'loads'), logger: silentLogger,
  });
  const load = await timed(() => other.load({ session: null, name: '1' }));
  console.log(`load, cold:     ${load.s.toFixed(2)} s, ${(bytes / MB / load.s).toFixed(0)} MB/s into an empty blob cache`);
  const warm = await timed(() => other.load({ session: null, name: '2' }));
  console.log(`load, cached:   ${(warm.s * 1000).toFixed(0)} ms (hard links only)`);
  ops.close();
  other.close();
  placed.close();
} finally {
  child.send({ kind: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}

import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadBytes } from '../../common/blobs/upload.js';
import Database from 'better-sqlite3';
import { CLIENT_CHANNEL_OPTIONS, tokenMetadata } from '../../common/grpc/options.js';
import { tokenInterceptor } from '../../common/grpc/token-interceptor.js';
import { userTable } from '../../coordinator/auth/user-table.js';
import { issueToken } from '../../coordinator/auth/token-issuer.js';
import { silentLogger } from '../../common/log.js';
import { encodeManifest } from '../../common/manifest.js';
import { sha256 } from '../../common/hashing.js';
import { loadProto } from '../../common/proto/load.js';
import type { AdminServiceClient, AgentServiceClient, BlobServiceClient, HealthClient, SessionServiceClient } from '../../common/proto/types.js';
import { startCoordinator, type Coordinator } from '../../coordinator/main.js';
import type { CoordinatorOptions } from '../../coordinator/options.js';

export interface Clients {
  sessions: SessionServiceClient;
  blobs: BlobServiceClient;
  admin: AdminServiceClient;
  agents: AgentServiceClient;
  health: HealthClient;
  close(): void;
}

/** Clients of one coordinator whose calls carry `user`'s token unless a call names another (default alice). */
export function makeClients(address: string, user = 'alice'): Clients {
  const p = loadProto();
  const creds = grpc.credentials.createInsecure();
  const options = { ...CLIENT_CHANNEL_OPTIONS, interceptors: [tokenInterceptor(() => (stateDir === undefined ? '' : tokenFor(user)))] };
  const sessions = new p.nsml.v1.SessionService(address, creds, options);
  const blobs = new p.nsml.v1.BlobService(address, creds, options);
  const admin = new p.nsml.v1.AdminService(address, creds, options);
  const agents = new p.nsml.v1.AgentService(address, creds, options);
  const health = new p.grpc.health.v1.Health(address, creds, options);
  return { sessions, blobs, admin, agents, health, close: () => [sessions, blobs, admin, agents, health].forEach((c) => c.close()) };
}

/** The state folder of the test coordinator started last: tokens are issued in its state. */
let stateDir: string | undefined;

/** Makes `tokenFor`/`userMd` issue tokens in the state under `dir` (a server a test started by other means). */
export function useStateDir(dir: string): void {
  stateDir = dir;
}
const tokens = new Map<string, string>();

/**
 * A token of `user` on the test coordinator started last (the user is made on first use;
 * `admin` makes them admin). Written straight into its state, as `nsml user add` would.
 */
export function tokenFor(user: string, admin = false): string {
  if (stateDir === undefined) throw new Error('tokenFor: no test coordinator was started');
  return issueTestToken(stateDir, user, admin);
}

/**
 * A token of `user` on the coordinator whose data folder is `dataDir` (running or not): the user
 * is made on first use (`admin` makes them admin), as `nsml user add` would; one per user.
 */
export function issueTestToken(dataDir: string, user: string, admin = false): string {
  const key = `${dataDir}\0${user}\0${admin}`;
  const known = tokens.get(key);
  if (known) return known;
  const db = new Database(join(dataDir, 'state.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    const users = userTable(db);
    users.ensure(user, admin, Date.now(), 'test');
    const { token } = issueToken(users, { user, label: 'test' }, Date.now());
    tokens.set(key, token);
    return token;
  } finally {
    db.close();
  }
}

export function userMd(user = 'alice', admin = false): grpc.Metadata {
  return tokenMetadata(tokenFor(user, admin));
}

/**
 * A generated unary method. Typed by its last overload `(request, callback)` so that TypeScript
 * infers the response type from the overloaded client method; it is called with metadata and
 * options.
 */
type UnaryFn<Req, Res> = (req: Req, cb: grpc.requestCallback<Res>) => unknown;
type FullUnaryFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown;

/** Calls a unary method as `user` (an admin with `admin`); rejects with the ServiceError. */
export function unaryCall<Req, Res>(client: grpc.Client, fn: UnaryFn<Req, Res>, req: Req, user = 'alice', timeoutMs = 10_000, admin = false): Promise<Res> {
  return new Promise((resolve, reject) => {
    (fn as unknown as FullUnaryFn<Req, Res>).call(client, req, userMd(user, admin), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

export function errorCodeOf(err: unknown): string | undefined {
  return (err as grpc.ServiceError).metadata?.get('nsml-error-code')?.[0] as string | undefined;
}

/** Uploads a workspace of in-memory files; returns the manifest hash. */
export async function uploadWorkspace(blobs: BlobServiceClient, files: Record<string, string>, user?: string): Promise<string> {
  const entries = [];
  const options = user === undefined ? {} : { metadata: userMd(user) };
  for (const [path, text] of Object.entries(files)) {
    const r = await uploadBytes(blobs, Buffer.from(text), options);
    entries.push({ path, mode: 0o644, size: Buffer.byteLength(text), hash: r.hash });
    expectHash(r.hash, text);
  }
  const { bytes } = encodeManifest(entries);
  return (await uploadBytes(blobs, bytes, options)).hash;
}

function expectHash(hash: string, text: string): void {
  if (hash !== sha256(Buffer.from(text))) throw new Error('uploadBytes returned a wrong hash');
}

export interface TestCoordinator {
  coordinator: Coordinator;
  dir: string;
  clients: Clients;
  /** Starts another coordinator on the same data directory (after close). */
  restart(overrides?: Partial<CoordinatorOptions>): Promise<void>;
  cleanup(): Promise<void>;
}

export const FAST_OPTIONS: Partial<CoordinatorOptions> = {
  port: 0,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 1000,
  stopGraceMs: 200,
  scheduleIntervalMs: 100,
  logger: silentLogger,
};

export async function startTestCoordinator(overrides: Partial<CoordinatorOptions> = {}): Promise<TestCoordinator> {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-coord-'));
  stateDir = dir;
  const t: TestCoordinator = {
    dir,
    coordinator: await startCoordinator({ ...FAST_OPTIONS, ...overrides, dataDir: dir }),
    clients: undefined as unknown as Clients,
    restart: async (more = {}) => {
      t.clients.close();
      t.coordinator = await startCoordinator({ ...FAST_OPTIONS, ...overrides, ...more, dataDir: dir });
      t.clients = makeClients(t.coordinator.address);
    },
    cleanup: async () => {
      t.clients.close();
      await t.coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.clients = makeClients(t.coordinator.address);
  return t;
}

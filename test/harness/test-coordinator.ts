import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadBytes } from '../../common/blobs/upload.js';
import { CLIENT_CHANNEL_OPTIONS, USER_KEY } from '../../common/grpc/options.js';
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

export function makeClients(address: string): Clients {
  const p = loadProto();
  const creds = grpc.credentials.createInsecure();
  const sessions = new p.nsml.v1.SessionService(address, creds, CLIENT_CHANNEL_OPTIONS);
  const blobs = new p.nsml.v1.BlobService(address, creds, CLIENT_CHANNEL_OPTIONS);
  const admin = new p.nsml.v1.AdminService(address, creds, CLIENT_CHANNEL_OPTIONS);
  const agents = new p.nsml.v1.AgentService(address, creds, CLIENT_CHANNEL_OPTIONS);
  const health = new p.grpc.health.v1.Health(address, creds, CLIENT_CHANNEL_OPTIONS);
  return { sessions, blobs, admin, agents, health, close: () => [sessions, blobs, admin, agents, health].forEach((c) => c.close()) };
}

export function userMd(user = 'alice'): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(USER_KEY, user);
  return md;
}

/**
 * A generated unary method. Typed by its last overload `(request, callback)` so that TypeScript
 * infers the response type from the overloaded client method; it is called with metadata and
 * options.
 */
type UnaryFn<Req, Res> = (req: Req, cb: grpc.requestCallback<Res>) => unknown;
type FullUnaryFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown;

/** Calls a unary method as `user`; rejects with the ServiceError. */
export function unaryCall<Req, Res>(client: grpc.Client, fn: UnaryFn<Req, Res>, req: Req, user = 'alice', timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    (fn as unknown as FullUnaryFn<Req, Res>).call(client, req, userMd(user), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

export function errorCodeOf(err: unknown): string | undefined {
  return (err as grpc.ServiceError).metadata?.get('nsml-error-code')?.[0] as string | undefined;
}

/** Uploads a workspace of in-memory files; returns the manifest hash. */
export async function uploadWorkspace(blobs: BlobServiceClient, files: Record<string, string>): Promise<string> {
  const entries = [];
  for (const [path, text] of Object.entries(files)) {
    const r = await uploadBytes(blobs, Buffer.from(text));
    entries.push({ path, mode: 0o644, size: Buffer.byteLength(text), hash: r.hash });
    expectHash(r.hash, text);
  }
  const { bytes } = encodeManifest(entries);
  return (await uploadBytes(blobs, bytes)).hash;
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

import * as grpc from '@grpc/grpc-js';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDataDir } from '../common/data-dir.js';
import { ErrorCodes, NsmlError, errorMessage } from '../common/errors.js';
import { serverCredentials } from '../common/grpc/credentials.js';
import { SERVER_CHANNEL_OPTIONS } from '../common/grpc/options.js';
import { SafeServer } from '../common/grpc/safe-service.js';
import { loadProto } from '../common/proto/load.js';
import { AgentRegistry } from './agents/agent-registry.js';
import { HeartbeatMonitor } from './agents/heartbeat-monitor.js';
import { BlobCollector, type CollectorStatus } from './blobs/blob-gc.js';
import { FileBlobStore } from './blobs/blob-store.js';
import { UploadGuard } from './blobs/upload-guard.js';
import { CheckpointRegistry } from './checkpoints/checkpoint-registry.js';
import { CommandQueue } from './commands/command-queue.js';
import type { CoordinatorContext } from './context.js';
import { DatasetRegistry } from './datasets/dataset-registry.js';
import { ExecBroker } from './exec/exec-broker.js';
import { Hub } from './hub.js';
import { type CoordinatorHttpServer, startHttpServer } from './http/http-server.js';
import { createMetricsRegistry } from './http/metrics-registry.js';
import { compileCoordinatorOptions, type CompiledCoordinatorOptions, type CoordinatorOptions } from './options.js';
import { adminService } from './services/admin-service.js';
import { agentService } from './services/agent-service.js';
import { blobService } from './services/blob-service.js';
import { checkpointService } from './services/checkpoint-service.js';
import { datasetService } from './services/dataset-service.js';
import { HealthState, healthService } from './services/health-service.js';
import { sessionService } from './services/session-service.js';
import { userService } from './services/user-service.js';
import { Authenticator } from './auth/authenticator.js';
import { BlobAccess } from './auth/blob-access.js';
import { bootstrapAdmins } from './auth/bootstrap.js';
import { Lifecycle } from './sessions/lifecycle.js';
import { SchedulerLoop, type SchedulerLoopStatus } from './sessions/scheduler-loop.js';
import { openStore } from './store/sqlite-store.js';
import type { Store } from './store/types.js';

export type { CoordinatorOptions } from './options.js';

/** How long `close()` lets calls in flight finish before cutting them. */
export const CLOSE_GRACE_MS = 5_000;

export type CoordinatorState = 'serving' | 'closing' | 'closed';

export interface CoordinatorStatus {
  state: CoordinatorState;
  address: string;
  startedAtMs: number;
  agentsConnected: number;
  nodes: { ready: number; draining: number; down: number };
  sessions: { queued: number; active: number };
  scheduler: SchedulerLoopStatus;
  heartbeat: { failures: number; nodesDown: number };
  /** The blob collector: state, runs, failures, last report. */
  gc: CollectorStatus;
}

export interface Coordinator {
  /** "HOST:PORT" to dial. */
  readonly address: string;
  readonly port: number;
  /** The HTTP server's port (/metrics, /healthz); undefined when it has none (`httpPort` not set). */
  readonly httpPort: number | undefined;
  /** Stops accepting work, ends streams, lets calls finish (up to CLOSE_GRACE_MS), closes the store. */
  close(): Promise<void>;
  /** Cuts everything now. */
  destroy(): void;
  getStatus(): CoordinatorStatus;
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bind(server: grpc.Server, o: CompiledCoordinatorOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(formatAddress(o.host, o.port), serverCredentials(o.tls), (err, port) => {
      if (err) {
        reject(new NsmlError(ErrorCodes.CONFIG, `cannot listen on ${formatAddress(o.host, o.port)}: ${err.message}; is another coordinator running? pick another port`, { cause: err }));
      } else resolve(port);
    });
  });
}

function writeInfoFile(dataDir: string, address: string): string {
  const path = join(dataDir, 'coordinator.json');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ address, pid: process.pid }) + '\n');
  renameSync(tmp, path);
  return path;
}

function removeInfoFile(path: string): void {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number };
    if (info.pid === process.pid) rmSync(path, { force: true });
  } catch {
    // already gone or replaced by another coordinator
  }
}

function countStatus(store: Store) {
  const nodes = { ready: 0, draining: 0, down: 0 };
  for (const n of store.listNodes()) nodes[n.state === 'down' ? 'down' : n.draining ? 'draining' : 'ready']++;
  const queued = store.countInStates(['queued']);
  const active = store.countInStates(['scheduled', 'starting', 'running']);
  return { nodes, sessions: { queued, active } };
}

/** The HTTP server of /metrics and /healthz when `httpPort` is set. */
async function startHttp(o: CompiledCoordinatorOptions, sources: Parameters<typeof createMetricsRegistry>[0], serving: () => boolean): Promise<CoordinatorHttpServer | undefined> {
  if (o.httpPort === undefined) return undefined;
  const registry = createMetricsRegistry(sources);
  const healthy = () => {
    if (!serving()) return false;
    try {
      sources.store.listNodes();
      return true;
    } catch {
      return false;
    }
  };
  const server = await startHttpServer({
    host: o.httpHost, port: o.httpPort, logger: o.logger.child({ component: 'http' }), closeGraceMs: CLOSE_GRACE_MS,
    routes: { healthy, metrics: async () => ({ text: await registry.metrics(), contentType: registry.contentType }) },
  });
  o.logger.info('coordinator serving HTTP', { url: server.url, metrics: `${server.url}/metrics` });
  return server;
}

/** Opens the state, listens, and starts the scheduling loop and the heartbeat monitor. */
export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const o = compileCoordinatorOptions(options);
  ensureDataDir(o.dataDir, 'nsml coordinator --data (default $NSML_HOME/coordinator)');
  const store = openStore(join(o.dataDir, 'state.sqlite'));
  const startedAtMs = o.clock.now();
  const closing = new AbortController();
  const agents = new AgentRegistry();
  const hub = new Hub();
  const health = new HealthState();
  let scheduler: SchedulerLoop | undefined;
  const lifecycle = new Lifecycle({
    store, agents, hub, clock: o.clock, logger: o.logger, stopGraceMs: o.stopGraceMs,
    heartbeatTimeoutMs: o.heartbeatTimeoutMs, requestSchedule: () => scheduler?.request(),
  });
  scheduler = new SchedulerLoop({
    store, agents, lifecycle, decide: o.decide, clock: o.clock, logger: o.logger, intervalMs: o.scheduleIntervalMs, usageHalfLifeMs: o.usageHalfLifeMs,
  });
  const monitor = new HeartbeatMonitor({
    store, agents, lifecycle, clock: o.clock, logger: o.logger, timeoutMs: o.heartbeatTimeoutMs,
    tickMs: Math.max(50, Math.min(o.heartbeatIntervalMs, o.heartbeatTimeoutMs / 4)), startedAtMs,
  });
  const commands = new CommandQueue({ store, agents, hub, clock: o.clock, logger: o.logger });
  const server = new SafeServer(SERVER_CHANNEL_OPTIONS);
  const guard = new UploadGuard(o.clock, o.uploadLeaseMs);
  let gc: BlobCollector;
  let port: number;
  let http: CoordinatorHttpServer | undefined;
  let state: CoordinatorState = 'serving';
  try {
    const blobs = await FileBlobStore.open(join(o.dataDir, 'blobs'));
    const datasets = new DatasetRegistry({ store, blobs, clock: o.clock, guard });
    gc = new BlobCollector({
      roots: store, blobs, target: blobs.sweepTarget(), guard, clock: o.clock, logger: o.logger.child({ component: 'gc' }),
      graceMs: o.gcGraceMs, intervalMs: o.gcIntervalMs,
    });
    const auth = new Authenticator({ store, clock: o.clock });
    const blobAccess = new BlobAccess({ store, blobs });
    bootstrapAdmins({ store, clock: o.clock, logger: o.logger }, o.admins, o.dataDir);
    const exec = new ExecBroker({ store, agents, auth, logger: o.logger.child({ component: 'exec' }), closing: closing.signal });
    const ctx: CoordinatorContext = { options: o, store, blobs, datasets, hub, agents, lifecycle, scheduler, commands, gc, auth, blobAccess, exec, closing: closing.signal };
    const proto = loadProto();
    server.addService(proto.nsml.v1.SessionService.service, sessionService(ctx));
    server.addService(proto.nsml.v1.AgentService.service, agentService(ctx));
    server.addService(proto.nsml.v1.BlobService.service, blobService(blobs, { auth, access: blobAccess, users: store.users }, guard));
    server.addService(proto.nsml.v1.AdminService.service, adminService(ctx));
    server.addService(proto.nsml.v1.UserService.service, userService(ctx));
    server.addService(proto.nsml.v1.DatasetService.service, datasetService(datasets, { auth, blobs, blobAccess }));
    server.addService(proto.nsml.v1.CheckpointService.service, checkpointService(new CheckpointRegistry({ store, blobs, clock: o.clock, guard }), { auth, store, blobs, blobAccess }));
    server.addService(proto.grpc.health.v1.Health.service, healthService(health));
    port = await bind(server, o);
    http = await startHttp(o, { store, agents, scheduler, gc, clock: o.clock }, () => state === 'serving');
  } catch (err) {
    server.forceShutdown();
    store.close();
    throw err;
  }
  const address = formatAddress(o.host, port);
  const infoPath = writeInfoFile(o.dataDir, address);
  scheduler.start();
  monitor.start();
  commands.start();
  gc.start();
  o.logger.info('coordinator listening', { address, dataDir: o.dataDir, policy: o.policy });

  let closed: Promise<void> | undefined;
  const stopLoops = () => {
    state = 'closing';
    health.set('NOT_SERVING');
    closing.abort();
    scheduler!.close();
    monitor.close();
    commands.close();
    gc.close();
  };
  const finish = () => {
    try {
      store.recordHeartbeats(agents.takeHeartbeats());
    } catch (err) {
      o.logger.warn('could not save heartbeat times', { error: errorMessage(err) });
    }
    store.close();
    removeInfoFile(infoPath);
    state = 'closed';
  };
  return {
    address,
    port,
    httpPort: http?.port,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        stopLoops();
        agents.closeAll('the coordinator is shutting down');
        let done = false;
        const httpClosed = http?.close() ?? Promise.resolve();
        const complete = () => {
          if (done) return;
          done = true;
          clearTimeout(force);
          void httpClosed.then(() => {
            finish();
            resolve();
          });
        };
        const force = setTimeout(() => {
          server.forceShutdown();
          complete();
        }, CLOSE_GRACE_MS);
        server.tryShutdown(complete);
      });
      return closed;
    },
    destroy: () => {
      if (state === 'closed') return;
      stopLoops();
      server.forceShutdown();
      http?.destroy();
      agents.closeAll('the coordinator was destroyed');
      finish();
    },
    getStatus: () => ({
      state, address, startedAtMs, agentsConnected: agents.size,
      ...(state === 'closed' ? { nodes: { ready: 0, draining: 0, down: 0 }, sessions: { queued: 0, active: 0 } } : countStatus(store)),
      scheduler: { ...scheduler!.status },
      heartbeat: { failures: monitor.failures, nodesDown: monitor.nodesDown },
      gc: gc.status,
    }),
  };
}

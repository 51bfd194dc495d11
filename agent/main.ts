import { ensureDataDir } from '../common/data-dir.js';
import { join } from 'node:path';
import { type NsmlError, errorMessage } from '../common/errors.js';
import { MAX_LINE_BYTES as MAX_JOURNAL_LINE_BYTES } from './bridge/protocol.js';
import { repoRoot } from '../common/proto/load.js';
import type { CoordinatorMessage__Output, Heartbeat, Register, Registered__Output } from '../common/proto/types.js';
import { BlobCache } from './cache/blob-cache.js';
import { createGrpcBlobSource, type BlobSource } from './cache/blob-source.js';
import { checkpointOpsFactory, createCheckpointClients, type CheckpointClients } from './checkpoints/index.js';
import { DatasetCache } from './datasets/dataset-cache.js';
import { Connection, type ConnectionHandler, type ConnectionStatus, type StreamLink } from './connection/connection.js';
import { Outbox } from './uplink/log-outbox.js';
import { DataLock } from './data-lock.js';
import { RefusalGate } from './refusal.js';
import { createGpuProbe } from './gpu/index.js';
import type { GpuProbe } from './gpu/types.js';
import { GpuSampler } from './gpu-sampler.js';
import { collectInventory } from './inventory.js';
import { loadNodeId } from './node-id.js';
import { NodeCredential } from './node-secret.js';
import { DiskWatch } from './disk/disk-watch.js';
import { compileAgentOptions, type AgentOptions, type CompiledAgentOptions } from './options.js';
import { attributeGpuProcesses } from './gpu-owners.js';
import type { RankPhase } from './runner/rank-runner.js';
import { rankSpecFromStart } from './runner/rank-spec.js';
import { Runner } from './runner/runner.js';
import { setUpIsolation, type NodeIsolation } from './run-as/index.js';
import { SessionBridges } from './session-bridge/session-bridges.js';
import { TelemetryShipper } from './uplink/telemetry-shipper.js';
import { SessionStops } from './session-stops.js';
import { SessionIdleness } from './session-idle.js';
import type { Environments } from './env/environments.js';
import { setUpEnvironments } from './env/setup.js';
import { createExecDialer } from './exec/exec-client.js';
import { execHelperPath } from './exec/exec-process.js';
import { ExecSessions } from './exec/exec-sessions.js';
import type { Launch } from './runner/rank-context.js';

export type { AgentOptions } from './options.js';

export type AgentState = 'running' | 'closing' | 'closed';

export interface AgentStatus {
  state: AgentState;
  nodeId: string;
  connection: ConnectionStatus;
  sessions: Array<{ session: string; epoch: number; rank: number; phase: RankPhase; pid: number }>;
}

/** A node agent: dials the coordinator, runs the session ranks placed on this node. */
export interface Agent {
  readonly nodeId: string;
  getStatus(): AgentStatus;
  /**
   * Resolves when the coordinator refused this agent for good (agent/refusal.ts: a wrong join
   * token, or a node name another agent's credential holds): it no longer dials; close it and
   * exit with the error. Never rejects.
   */
  readonly refusal: Promise<NsmlError>;
  /**
   * Graceful: ships what it can, ends the stream, stops reconnecting. Running sessions are NOT
   * stopped: they keep running under their supervisors and the next agent started on the same
   * data folder re-adopts them.
   */
  close(): Promise<void>;
  /** Forced: cancels the stream at once. Sessions keep running, as with `close`. */
  destroy(): Promise<void>;
  /** Stops every session of this node (SIGTERM, SIGKILL after `graceMs`) and waits for their ends. */
  stopAllSessions(graceMs?: number): Promise<void>;
}

/** Starts the agent on this node; resolves once its sessions are re-adopted and it is dialing. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const o = compileAgentOptions(options);
  ensureDataDir(o.dataDir, 'nsml agent --data (default $NSML_HOME/agent)');
  const lock = DataLock.acquire(o.dataDir);
  try {
    const isolation = await setUpIsolation(o); // agent/run-as: whose uid runs the sessions; refuses a node they cannot use
    const environments = await setUpEnvironments({ ...o, pathEnv: process.env.PATH }); // agent/env: Pythons, venv cache, images
    const nodeId = loadNodeId(o.dataDir, o.nodeId);
    const probe = o.gpuProbe ?? createGpuProbe({ nvidiaSmi: o.nvidiaSmi, gpus: o.gpus });
    const credential = new NodeCredential(o.dataDir, o.logger);
    const blobs = o.blobSource ?? createGrpcBlobSource(o.coordinator, o.tls, () => credential.secret);
    return new NodeAgent(o, nodeId, probe, blobs, lock, credential, isolation, environments);
  } catch (err) {
    lock.release();
    throw err;
  }
}

class NodeAgent implements Agent, ConnectionHandler {
  private state: AgentState = 'running';
  private readonly runner: Runner;
  private readonly outbox: Outbox;
  private readonly connection: Connection;
  private readonly pumpTimer: NodeJS.Timeout;
  private readonly sampler: GpuSampler;
  private readonly idleness: SessionIdleness;
  private readonly datasets: DatasetCache;
  private readonly telemetry: TelemetryShipper;
  private readonly bridges: SessionBridges;
  private readonly checkpointClients: CheckpointClients | undefined;
  private readonly stops: SessionStops;
  private readonly disk: DiskWatch;
  /** Terminals into sessions (`nsml exec`, `nsml attach`). */
  private readonly execs: ExecSessions;
  private readonly refusalGate = new RefusalGate(() => this.o.logger);

  constructor(
    private readonly o: CompiledAgentOptions,
    readonly nodeId: string,
    private readonly probe: GpuProbe,
    private readonly blobs: BlobSource,
    private readonly lock: DataLock,
    private readonly credential: NodeCredential,
    private readonly isolation: NodeIsolation,
    private readonly environments: Environments,
  ) {
    const logger = o.logger.child({ nodeId });
    this.sampler = new GpuSampler(probe, o.gpus);
    this.idleness = new SessionIdleness(o.idleWindowMs, o.clock);
    const cache = new BlobCache(join(o.dataDir, 'blobs'), blobs);
    this.datasets = DatasetCache.open({ dir: join(o.dataDir, 'datasets'), blobs: cache, budgetBytes: o.datasetCacheBytes, clock: o.clock, logger });
    this.telemetry = new TelemetryShipper({
      ranks: () => this.runner.ranks(), own: (key, result) => this.bridges.takeOwn(key, result),
      maxLineBytes: MAX_JOURNAL_LINE_BYTES, clock: o.clock, logger,
    });
    this.checkpointClients = o.checkpoints ? undefined : createCheckpointClients(o.coordinator, o.tls, () => this.credential.secret);
    this.bridges = new SessionBridges({
      telemetry: this.telemetry, logger, rankPhase: (key) => this.runner.get(key)?.record.phase,
      checkpoints: o.checkpoints ?? checkpointOpsFactory({ clients: this.checkpointClients!, blobCache: cache, logger }),
    });
    this.runner = Runner.open(join(o.dataDir, 'sessions'), {
      cache,
      datasets: this.datasets,
      python: o.python,
      sdkPath: isolation.sdkPath ?? o.sdkPath,
      supervisorPath: join(repoRoot(), 'agent', 'runner', 'supervisor.py'),
      gpuDevice: (i) => this.cudaDevice(i),
      checkGpus: probe.checkFree ? (indices) => probe.checkFree!(indices) : undefined,
      baseEnv: process.env,
      pollMs: Math.max(20, Math.min(o.logFlushMs * 2, 200)),
      logger,
      clock: o.clock,
      rankServices: this.bridges,
      sessionUsers: isolation.users,
      environments,
    });
    this.execs = new ExecSessions({
      dialer: createExecDialer(o.coordinator, o.tls, () => this.credential.secret),
      rank: (session, epoch, rank) => {
        const r = this.runner.ranks().find((x) => x.spec.session === session && x.spec.epoch === epoch && x.spec.rank === rank);
        return r && { phase: r.record.phase, launch: () => r.dir.readJson<Launch>('launch.json') };
      },
      python: o.python, helperPath: execHelperPath(repoRoot()), logger,
    });
    this.disk = new DiskWatch({ dir: o.dataDir, minFreeBytes: o.minFreeBytes, logger });
    this.stops = new SessionStops({
      ranks: () => this.runner.ranks(), askToSave: (key, name, ms) => this.bridges.askToSave(key, name, ms), logger, clock: o.clock,
    });
    this.outbox = new Outbox(this.runner, {
      maxLineBytes: o.maxLineBytes, maxUnackedLines: o.maxUnackedLines, finishedRetentionMs: o.finishedRetentionMs,
      confirmMs: o.finishedConfirmMs, clock: o.clock, logger,
      holdEnd: (key) => !this.telemetry.settled(key), onForget: (key) => this.telemetry.forget(key),
    });
    this.runner.onChange((r) => {
      this.outbox.track(r);
      this.pump();
    });
    this.pumpTimer = setInterval(() => this.pump(), o.logFlushMs);
    this.connection = Connection.start({
      coordinator: o.coordinator, tls: o.tls, registerTimeoutMs: o.registerTimeoutMs,
      reconnectMinMs: o.reconnectMinMs, reconnectMaxMs: o.reconnectMaxMs, logger, clock: o.clock,
    }, this);
  }

  getStatus(): AgentStatus {
    return {
      state: this.state,
      nodeId: this.nodeId,
      connection: this.connection.status(),
      sessions: this.runner.ranks().map((r) => ({ session: r.spec.session, epoch: r.spec.epoch, rank: r.spec.rank, phase: r.record.phase, pid: r.pid })),
    };
  }

  async close(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'closing';
    clearInterval(this.pumpTimer);
    this.pump();
    await this.connection.close();
    await this.shutdown();
  }

  async destroy(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    clearInterval(this.pumpTimer);
    await this.connection.destroy();
    await this.shutdown();
  }

  async stopAllSessions(graceMs = this.o.stopGraceMs): Promise<void> {
    await this.runner.stopAll(graceMs, 'the agent stops every session');
    this.outbox.pump();
  }

  private async shutdown(): Promise<void> {
    this.stops.close();
    this.execs.closeAll();
    await this.runner.detach();
    await this.bridges.closeAll();
    this.checkpointClients?.close();
    this.telemetry.close();
    this.outbox.close();
    this.probe.close();
    this.disk.close();
    this.blobs.close();
    this.lock.release();
    this.state = 'closed';
  }

  get refusal(): Promise<NsmlError> {
    return this.refusalGate.refusal;
  }

  // ---- ConnectionHandler ----

  /** A wrong join token is final: the connection stops and `refusal` resolves. */
  refused(err: unknown): boolean {
    return this.refusalGate.refuse(err);
  }

  async register(): Promise<Register> {
    const inventory = await collectInventory({
      dataDir: this.o.dataDir, address: this.o.advertiseAddress, labels: this.o.labels, gpus: this.o.gpus, isolation: this.isolation.isolation,
      pythons: this.environments.pythons.map((i) => i.version), containerRuntime: this.environments.containers?.kind ?? '',
    }, this.probe);
    this.sampler.remember(inventory.gpus ?? []);
    return { nodeId: this.nodeId, joinToken: this.o.joinToken, nodeSecret: this.credential.secret, inventory, running: this.outbox.registerListing() };
  }

  registered(message: Registered__Output, link: StreamLink): void {
    this.credential.accept(message.nodeSecret);
    this.telemetry.registered(message.metricAcks, link);
    this.outbox.registered(message.logAcks, link);
  }

  async heartbeat(): Promise<Heartbeat> {
    const interval = this.connection.status().heartbeatIntervalMs ?? 1_000;
    const gpus = await this.sampler.sample(Math.max(50, interval / 2));
    return {
      tsMs: this.o.clock.now(),
      gpus: gpus ? attributeGpuProcesses(gpus, this.runner.ranks()) : [],
      running: this.outbox.liveListing(),
      datasets: this.datasets.held(),
      idleSessions: this.idleness.update(gpus, this.runner.ranks()),
      disk: this.disk.check(),
    };
  }

  message(m: CoordinatorMessage__Output): void {
    try {
      if (m.start) this.onStart(m.start);
      else if (m.stop) this.onStop(m.stop);
      else if (m.logAck) this.outbox.ack(m.logAck);
      else if (m.command) this.bridges.deliver(m.command);
      else if (m.openExec) this.execs.open(m.openExec);
      else if (m.metricAck) {
        this.telemetry.ack(m.metricAck);
        this.outbox.pump();
      }
    } catch (err) {
      this.o.logger.error('cannot handle a coordinator message', { body: m.body, error: errorMessage(err) });
    }
  }

  drain(): void {
    this.telemetry.drain();
    this.outbox.drain();
  }

  disconnected(): void {
    this.telemetry.disconnected();
    this.outbox.disconnected();
  }

  /** Telemetry first, so that a rank's end (held until its telemetry is stored) can follow. */
  private pump(): void {
    this.telemetry.pump();
    this.outbox.pump();
  }

  /** SIGTERM, SIGKILL after the grace period; a preemption (`checkpoint`) asks the script to save first. */
  private onStop(stop: NonNullable<CoordinatorMessage__Output['stop']>): void {
    void this.stops.stop({
      session: stop.session, epoch: stop.epoch, graceMs: stop.graceMs, reason: stop.reason || 'asked by the coordinator', checkpoint: stop.checkpoint,
    });
  }

  private onStart(start: NonNullable<CoordinatorMessage__Output['start']>): void {
    let spec;
    try {
      spec = rankSpecFromStart(start);
    } catch (err) {
      this.outbox.tellOnce({
        session: start.session, epoch: start.epoch, rank: start.rank, state: 'failed_to_start',
        message: errorMessage(err), signal: '', tsMs: this.o.clock.now(),
      });
      return;
    }
    try {
      this.runner.start(spec);
    } catch (err) {
      // e.g. no room for the rank's folder: told, never left `starting`
      this.outbox.tellOnce({
        session: start.session, epoch: start.epoch, rank: start.rank, state: 'failed_to_start',
        message: errorMessage(err), signal: '', tsMs: this.o.clock.now(),
      });
    }
  }

  /** A MIG unit is addressed by its UUID in CUDA_VISIBLE_DEVICES; a whole GPU by its index. */
  private cudaDevice(index: number): string {
    const g = this.sampler.gpus.find((x) => x.index === index);
    return g && g.mig && g.uuid ? g.uuid : String(index);
  }
}

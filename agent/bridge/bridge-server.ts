import { chmod, lchown, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/log.js';
import { handOver, reclaimTree } from '../run-as/ownership.js';
import { BridgeConnection, type BridgeCounters, type ConnectionContext } from './connection.js';
import type { BridgeHandler } from './handler.js';
import { MAX_LINE_BYTES, MAX_SOCKET_PATH_BYTES, type BridgeCommand } from './protocol.js';
import { validateCommand } from './validate-command.js';

export interface BridgeServerOptions {
  /** Where to listen; a stale socket file there is replaced. At most 107 bytes. */
  socketPath: string;
  /** `USER/DATASET/N` of the session this socket serves. */
  session: string;
  handler: BridgeHandler;
  /** When set, `save` directories must be inside it (the session's `NSML_CHECKPOINT_DIR`). */
  checkpointDir?: string;
  logger?: Logger;
  /** Default 4 MiB (the protocol's limit). */
  maxLineBytes?: number;
  /** Default 64. */
  maxConnections?: number;
  /** A connection that has not said hello by then is closed. Default 10 s. */
  helloTimeoutMs?: number;
  /** Commands kept while no script is connected. Default 1,000. */
  maxQueuedCommands?: number;
  /** File mode of the socket. Default 0o600. */
  socketMode?: number;
  /**
   * The session's user when it is not the agent's (agent/run-as): the socket and its folder
   * (which must be the socket's alone, in a folder only root can change) are given to it, the
   * folder mode 0700, so that no other user can enter it. The folder is taken back first when it
   * is there already (a re-adopted rank), so that root never binds in a folder the user can change.
   */
  owner?: { uid: number; gid: number };
}

export interface CompiledBridgeServerOptions extends Required<Omit<BridgeServerOptions, 'checkpointDir' | 'logger' | 'owner'>> {
  checkpointDir: string | undefined;
  logger: Logger;
  owner: { uid: number; gid: number } | undefined;
}

export function compileBridgeServerOptions(options: BridgeServerOptions): CompiledBridgeServerOptions {
  if (Buffer.byteLength(options.socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new NsmlError(ErrorCodes.CONFIG, `socket path ${options.socketPath} is ${Buffer.byteLength(options.socketPath)} bytes; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}: use a shorter state directory`);
  }
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v <= 0) throw new NsmlError(ErrorCodes.CONFIG, `bridge option ${name} must be a positive integer, got ${v}`);
    return v;
  };
  return {
    socketPath: options.socketPath,
    session: options.session,
    handler: options.handler,
    checkpointDir: options.checkpointDir,
    logger: options.logger ?? createLogger({ component: 'bridge', session: options.session }),
    maxLineBytes: positive('maxLineBytes', options.maxLineBytes, MAX_LINE_BYTES),
    maxConnections: positive('maxConnections', options.maxConnections, 64),
    helloTimeoutMs: positive('helloTimeoutMs', options.helloTimeoutMs, 10_000),
    maxQueuedCommands: positive('maxQueuedCommands', options.maxQueuedCommands, 1000),
    socketMode: options.socketMode ?? 0o600,
    owner: options.owner,
  };
}

export type BridgeState = 'listening' | 'closing' | 'closed';

export interface BridgeStatus extends BridgeCounters {
  state: BridgeState;
  connections: number;
  ready: number;
  queuedCommands: number;
  commandsSent: number;
}

export interface BridgeServer {
  readonly socketPath: string;
  /**
   * Pushes a command to the script: to the first connection that said hello and is still open
   * (the script's main process). Returns true when sent now, false when queued until a script
   * connects. Throws NSML_E_INVALID_ARGUMENT for a malformed command, NSML_E_TOO_LARGE when the queue is full.
   */
  sendCommand(command: BridgeCommand): boolean;
  getStatus(): BridgeStatus;
  /** Stops accepting, ends connections (destroying those still open after `graceMs`), removes the socket. */
  close(graceMs?: number): Promise<void>;
  /** Closes everything now. */
  destroy(): void;
}

async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (!info.isSocket()) throw new NsmlError(ErrorCodes.CONFIG, `${path} exists and is not a socket; remove it or choose another socket path`);
  await unlink(path);
}

/** Listens on the session's Unix socket and serves every script process that connects. */
export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const opts = compileBridgeServerOptions(options);
  const folder = dirname(opts.socketPath);
  if (opts.owner) await reclaimTree(folder);
  await mkdir(folder, { recursive: true });
  await removeStaleSocket(opts.socketPath);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(opts.socketPath, opts.socketMode);
  if (opts.owner) {
    await lchown(opts.socketPath, opts.owner.uid, opts.owner.gid);
    await handOver(folder, opts.owner);
  }
  return new Bridge(server, opts);
}

class Bridge implements BridgeServer {
  private state: BridgeState = 'listening';
  private nextId = 1;
  private readonly connections = new Set<BridgeConnection>();
  private readonly ready: BridgeConnection[] = [];
  private readonly queue: BridgeCommand[] = [];
  private commandsSent = 0;
  private readonly counters: BridgeCounters = {
    records: 0, batches: 0, droppedBySdk: 0, events: 0, results: 0, saves: 0, loads: 0, refused: 0, handlerErrors: 0,
  };
  private readonly ctx: ConnectionContext;

  constructor(private readonly server: Server, private readonly opts: CompiledBridgeServerOptions) {
    this.ctx = {
      session: opts.session,
      handler: opts.handler,
      logger: opts.logger,
      maxLineBytes: opts.maxLineBytes,
      helloTimeoutMs: opts.helloTimeoutMs,
      checkpointDir: opts.checkpointDir,
      counters: this.counters,
      ready: (c) => this.onReady(c),
      closed: (c) => this.onClosed(c),
    };
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => opts.logger.error('bridge server error', { err: err.message }));
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  private accept(socket: Socket): void {
    const connection = new BridgeConnection(this.nextId++, socket, this.ctx);
    this.connections.add(connection);
    if (this.state !== 'listening') return connection.refuse('the agent is shutting this session down', ErrorCodes.COORDINATOR_UNAVAILABLE);
    if (this.connections.size > this.opts.maxConnections) this.evictIdlest(connection);
  }

  /**
   * At the limit, a new connection still gets in (it may be the script's own, reconnecting):
   * the one idle longest goes instead, preferring one that never said hello and never one
   * waiting for a reply. A script's SDK reconnects when closed, so nobody is locked out for good.
   */
  private evictIdlest(newcomer: BridgeConnection): void {
    let victim: BridgeConnection | undefined;
    const rank = (c: BridgeConnection) => [c.peer ? 1 : 0, c.lastActiveMs];
    for (const c of this.connections) {
      if (c === newcomer || !c.open || c.busy) continue;
      if (!victim) victim = c;
      else {
        const [a, b] = [rank(c), rank(victim)];
        if (a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!)) victim = c;
      }
    }
    (victim ?? newcomer).refuse(`too many connections (${this.opts.maxConnections}) to this session's socket; closing the one idle longest`, ErrorCodes.TOO_LARGE);
  }

  private onReady(connection: BridgeConnection): void {
    this.ready.push(connection);
    if (this.ready[0] !== connection) return;
    for (const command of this.queue.splice(0)) {
      connection.sendCommand(command);
      this.commandsSent++;
    }
  }

  private onClosed(connection: BridgeConnection): void {
    this.connections.delete(connection);
    const i = this.ready.indexOf(connection);
    if (i >= 0) this.ready.splice(i, 1);
    if (connection.peer && this.state === 'listening') this.opts.handler.onConnection?.(connection.peer, 'closed');
  }

  sendCommand(command: BridgeCommand): boolean {
    const valid = validateCommand(command);
    const target = this.ready.find((c) => c.open);
    if (target) {
      target.sendCommand(valid);
      this.commandsSent++;
      return true;
    }
    if (this.queue.length >= this.opts.maxQueuedCommands) {
      throw new NsmlError(ErrorCodes.TOO_LARGE, `${this.queue.length} commands already wait for session ${this.opts.session} to connect; retry later`);
    }
    this.queue.push(valid);
    return false;
  }

  getStatus(): BridgeStatus {
    return {
      ...this.counters,
      state: this.state,
      connections: this.connections.size,
      ready: this.ready.length,
      queuedCommands: this.queue.length,
      commandsSent: this.commandsSent,
    };
  }

  async close(graceMs = 5000): Promise<void> {
    if (this.state !== 'listening') return;
    this.state = 'closing';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.end(graceMs)));
    await closed;
    await unlink(this.opts.socketPath).catch(() => undefined);
    this.state = 'closed';
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const c of this.connections) c.destroy();
    this.server.close();
    void unlink(this.opts.socketPath).catch(() => undefined);
  }
}

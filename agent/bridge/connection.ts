import type { Socket } from 'node:net';
import { stat } from 'node:fs/promises';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { listCheckpointFiles, isInside } from './checkpoint-files.js';
import type { BridgeHandler } from './handler.js';
import { LineSplitter } from './line-splitter.js';
import { BRIDGE_PROTOCOL_VERSION, SUPPORTED_VERSIONS, type BridgeCommand, type BridgePeer, type LoadMessage, type SaveMessage, type SdkMessage } from './protocol.js';
import { parseSdkLine } from './validate-message.js';

/** What a connection needs from its server. */
export interface ConnectionContext {
  session: string;
  handler: BridgeHandler;
  logger: Logger;
  maxLineBytes: number;
  helloTimeoutMs: number;
  checkpointDir: string | undefined;
  counters: BridgeCounters;
  ready(connection: BridgeConnection): void;
  closed(connection: BridgeConnection): void;
}

export interface BridgeCounters {
  records: number;
  batches: number;
  droppedBySdk: number;
  events: number;
  results: number;
  saves: number;
  loads: number;
  refused: number;
  handlerErrors: number;
}

/** One script process on the socket: hello first, then any message; garbage closes it. */
export class BridgeConnection {
  peer: BridgePeer | undefined;
  /** When this connection last sent anything (or opened). */
  lastActiveMs = Date.now();
  private readonly splitter: LineSplitter;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(readonly id: number, private readonly socket: Socket, private readonly ctx: ConnectionContext) {
    this.splitter = new LineSplitter(ctx.maxLineBytes);
    this.helloTimer = setTimeout(() => this.refuse(`no hello within ${ctx.helloTimeoutMs} ms`), ctx.helloTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.logger.debug('bridge connection error', { connection: id, err: errorMessage(err) }));
    socket.on('close', () => {
      clearTimeout(this.helloTimer);
      this.closing = true;
      ctx.closed(this);
    });
  }

  get open(): boolean {
    return !this.closing && !this.socket.destroyed;
  }

  send(message: Record<string, unknown>): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(JSON.stringify(message) + '\n');
  }

  sendCommand(command: BridgeCommand): void {
    this.send({ type: 'command', id: command.id, name: command.name, args: command.args });
  }

  /** Ends the connection after what was written; `destroy` after `graceMs` if it lingers. */
  end(graceMs: number): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /** Closes this connection (only) with a logged reason. */
  refuse(reason: string, code: string = ErrorCodes.INVALID_ARGUMENT): void {
    if (this.closing) return;
    this.ctx.counters.refused++;
    this.ctx.logger.warn('bridge connection closed', { connection: this.id, pid: this.peer?.pid, rank: this.peer?.rank, reason });
    this.send({ type: 'error', code, message: reason });
    this.closing = true;
    if (this.peer) this.ctx.handler.onConnection?.(this.peer, 'closed', reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** True while a request of this connection waits for its reply. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.lastActiveMs = Date.now();
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (err) {
      this.refuse(errorMessage(err), ErrorCodes.TOO_LARGE);
      return;
    }
    for (const line of lines) {
      if (this.closing) return;
      if (line.length === 0) continue;
      const parsed = parseSdkLine(line);
      if (!parsed.ok) {
        this.refuse(parsed.reason);
        return;
      }
      this.dispatch(parsed.message);
    }
  }

  private dispatch(message: SdkMessage): void {
    const peer = this.peer;
    if (message.type === 'hello') return this.hello(message.v, message.sdk, message.pid, message.rank);
    if (!peer) return this.refuse(`expected hello first, got ${message.type}`);
    switch (message.type) {
      case 'metrics':
        this.ctx.counters.batches++;
        this.ctx.counters.records += message.batch.records.length;
        this.ctx.counters.droppedBySdk += message.batch.dropped;
        return this.guard(() => this.ctx.handler.onMetrics(message.batch, peer));
      case 'event':
        this.ctx.counters.events++;
        return this.guard(() => this.ctx.handler.onEvent(message.event, peer));
      case 'result':
        this.ctx.counters.results++;
        return this.guard(() => this.ctx.handler.onCommandResult(message.result, peer));
      case 'save':
        return this.track(message.id, () => this.save(message));
      case 'load':
        return this.track(message.id, () => this.load(message));
      case 'bye':
        void Promise.allSettled([...this.inFlight]).then(() => this.send({ type: 'reply', id: message.id, ok: true, result: {} }));
        return;
    }
  }

  private hello(v: number, sdk: string, pid: number, rank: number): void {
    if (this.peer) return this.refuse('hello sent twice');
    if (!SUPPORTED_VERSIONS.includes(v)) {
      return this.refuse(`protocol version ${v} is not supported; this agent speaks ${SUPPORTED_VERSIONS.join(', ')} (upgrade the nsml package or the agent)`);
    }
    clearTimeout(this.helloTimer);
    this.peer = { connectionId: this.id, pid, rank, sdk };
    this.send({ type: 'welcome', v: BRIDGE_PROTOCOL_VERSION, session: this.ctx.session, max_line_bytes: this.ctx.maxLineBytes });
    this.guard(() => this.ctx.handler.onConnection?.(this.peer!, 'open'));
    this.ctx.ready(this);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.counters.handlerErrors++;
      this.ctx.logger.error('bridge handler failed', { connection: this.id, err: errorMessage(err) });
    }
  }

  private track(id: number, work: () => Promise<Record<string, unknown>>): void {
    const done = work().then(
      (result) => this.send({ type: 'reply', id, ok: true, result }),
      (err: unknown) => this.send({ type: 'reply', id, ok: false, error: wireError(err) }),
    ).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async save(message: SaveMessage): Promise<Record<string, unknown>> {
    this.ctx.counters.saves++;
    await this.checkSaveDir(message.dir);
    const listing = await listCheckpointFiles(message.dir);
    if (listing.skipped.length > 0) {
      this.ctx.logger.warn('checkpoint entries skipped (not regular files)', { name: message.name, skipped: listing.skipped.slice(0, 20) });
    }
    const res = await this.ctx.handler.saveCheckpoint({
      name: message.name, source: 'sdk', dir: message.dir, files: listing.files, summary: message.summary,
    });
    return { name: message.name, files: res.files, bytes: res.bytes, uploaded_bytes: res.uploadedBytes };
  }

  private async checkSaveDir(dir: string): Promise<void> {
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `save: ${dir} is not a directory the agent can read`);
    const root = this.ctx.checkpointDir;
    if (root !== undefined && !(await isInside(dir, root))) {
      throw new NsmlError(ErrorCodes.PERMISSION_DENIED, `save: ${dir} is outside the session's checkpoint directory ${root}`);
    }
  }

  private async load(message: LoadMessage): Promise<Record<string, unknown>> {
    this.ctx.counters.loads++;
    const res = await this.ctx.handler.loadCheckpoint({ session: message.session, name: message.name });
    return { dir: res.dir };
  }
}

/** The `error` object of a reply: stable code, actionable message, details. */
export function wireError(err: unknown): Record<string, unknown> {
  if (isNsmlError(err)) return { code: err.code, message: err.message, details: err.details ?? {} };
  return { code: ErrorCodes.INTERNAL, message: errorMessage(err), details: {} };
}

import * as grpc from '@grpc/grpc-js';
import { SERVER_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type { AgentMessage__Output, AgentServiceHandlers, CoordinatorMessage, LogLine__Output } from '../../common/proto/types.js';
import { eventually } from './runner-fixture.js';
import type { ExecFrame, ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';

type Stream = grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>;

export interface FakeCoordinatorOptions {
  port?: number;
  heartbeatIntervalMs?: number;
  /** Answer every log_batch with a log_ack (default true). */
  autoAck?: boolean;
  /** Never answer register (to test the agent's registration timeout). */
  silent?: boolean;
}

/**
 * A coordinator's agent stream for agent tests, on real gRPC: records what agents send,
 * stores log lines idempotently by seq (as the real store does), acknowledges them, and lets
 * the test send start and stop.
 */
export class FakeCoordinator {
  readonly received: Array<{ stream: number; message: AgentMessage__Output }> = [];
  /** Stored log lines by `session|epoch|rank`, by seq. */
  readonly logs = new Map<string, Map<number, LogLine__Output>>();
  autoAck: boolean;
  /** The `registered` answers sent, in order. */
  readonly registeredSent: Array<{ stream: number; logAcks: Array<{ session: string; rank: number; seq: number }> }> = [];
  /** AgentService.Exec dial-backs, in order (the test reads and writes their frames). */
  readonly execCalls: Array<grpc.ServerDuplexStream<ExecFrame__Output, ExecFrame>> = [];
  private streams: Stream[] = [];
  private streamCount = 0;
  private server: grpc.Server | undefined;
  port = 0;

  private constructor(private readonly options: FakeCoordinatorOptions) {
    this.autoAck = options.autoAck ?? true;
  }

  static async start(options: FakeCoordinatorOptions = {}): Promise<FakeCoordinator> {
    const c = new FakeCoordinator(options);
    await c.listen(options.port ?? 0);
    return c;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens again on the same port after `stop`. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  /** Kills the server and every stream at once, like a crashed coordinator. */
  async stop(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.streams = [];
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** Sends a message down the newest stream. */
  send(message: CoordinatorMessage): void {
    const s = this.streams[this.streams.length - 1];
    if (!s) throw new Error('no agent is connected');
    s.write(message);
  }

  messages(body?: AgentMessage__Output['body']): AgentMessage__Output[] {
    return this.received.map((r) => r.message).filter((m) => body === undefined || m.body === body);
  }

  /** The stored lines of one rank, in seq order. */
  lines(session: string, epoch: number, rank: number): LogLine__Output[] {
    const m = this.logs.get(`${session}|${epoch}|${rank}`) ?? new Map();
    return [...m.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Highest seq stored without a gap. */
  ackOf(session: string, epoch: number, rank: number): number {
    const m = this.logs.get(`${session}|${epoch}|${rank}`);
    let seq = 0;
    while (m?.has(seq + 1)) seq += 1;
    return seq;
  }

  async waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    return eventually(check, what, timeoutMs);
  }

  private async listen(port: number): Promise<void> {
    const proto = loadProto();
    const server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
    const handlers: AgentServiceHandlers = { Connect: (call) => this.onStream(call), Exec: (call) => this.execCalls.push(call) };
    server.addService(proto.nsml.v1.AgentService.service, handlers);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
  }

  private onStream(call: Stream): void {
    this.streams.push(call);
    this.streamCount += 1;
    const index = this.streamCount;
    call.on('data', (m: AgentMessage__Output) => {
      this.received.push({ stream: index, message: m });
      if (m.register) this.onRegister(call, index);
      if (m.logBatch) this.onLogs(call, m.logBatch);
    });
    call.on('error', () => {});
    call.on('end', () => call.end());
  }

  private onRegister(call: Stream, stream: number): void {
    if (this.options.silent) return;
    const logAcks = [...this.logs.keys()].map((k) => {
      const [session, epoch, rank] = k.split('|') as [string, string, string];
      return { session, rank: Number(rank), seq: this.ackOf(session, Number(epoch), Number(rank)) };
    });
    this.registeredSent.push({ stream, logAcks });
    call.write({ registered: { nodeId: 'fake', heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 100, logAcks } });
  }

  private onLogs(call: Stream, b: NonNullable<AgentMessage__Output['logBatch']>): void {
    const key = `${b.session}|${b.epoch}|${b.rank}`;
    const stored = this.logs.get(key) ?? new Map<number, LogLine__Output>();
    this.logs.set(key, stored);
    for (const l of b.lines) if (!stored.has(l.seq)) stored.set(l.seq, l);
    if (this.autoAck) call.write({ logAck: { session: b.session, rank: b.rank, seq: this.ackOf(b.session, b.epoch, b.rank) } });
  }
}

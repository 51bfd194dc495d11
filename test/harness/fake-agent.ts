import type * as grpc from '@grpc/grpc-js';
import type {
  AgentMessage, AgentServiceClient, CoordinatorMessage__Output, GpuInfo, RunningProcess,
} from '../../common/proto/types.js';

export function fakeGpus(count: number): GpuInfo[] {
  return Array.from({ length: count }, (_, index) => ({
    index, uuid: `GPU-${index}`, name: 'Fake GPU', memoryTotalMib: 16384, health: 'ok', processes: [],
  }));
}

/**
 * A scripted agent: a real gRPC client of AgentService.Connect that records what comes down
 * and sends what the test tells it to.
 */
export class FakeAgent {
  /** The node secret each node id was issued, presented again like a real agent's data directory would. */
  static readonly secrets = new Map<string, string>();
  readonly received: CoordinatorMessage__Output[] = [];
  private waiters: Array<() => void> = [];
  ended = false;
  status: grpc.StatusObject | undefined;
  private readonly call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output>;

  constructor(client: AgentServiceClient, readonly nodeId: string) {
    this.call = client.Connect();
    this.call.on('data', (m: CoordinatorMessage__Output) => {
      if (m.registered?.nodeSecret) FakeAgent.secrets.set(nodeId, m.registered.nodeSecret);
      this.received.push(m);
      this.wake();
    });
    this.call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.ended = true;
      this.wake();
    });
    this.call.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(message: AgentMessage): void {
    this.call.write(message);
  }

  /** `pythons` (X.Y.Z) and `containerRuntime` are what the node offers sessions (`--python`, `--image`); default: none reported. */
  register(opts: { gpus?: number; running?: RunningProcess[]; joinToken?: string; address?: string; nodeSecret?: string; pythons?: string[]; containerRuntime?: string } = {}): void {
    this.send({
      register: {
        nodeId: this.nodeId,
        joinToken: opts.joinToken ?? '',
        nodeSecret: opts.nodeSecret ?? FakeAgent.secrets.get(this.nodeId) ?? '',
        inventory: {
          hostname: this.nodeId, cpus: 8, memoryMib: 32768, gpus: fakeGpus(opts.gpus ?? 2), address: opts.address ?? '',
          ...(opts.pythons && { pythons: opts.pythons }), ...(opts.containerRuntime && { containerRuntime: opts.containerRuntime }),
        },
        running: opts.running ?? [],
      },
    });
  }

  heartbeat(running: RunningProcess[] = []): void {
    this.send({ heartbeat: { tsMs: Date.now(), running } });
  }

  sendStatus(session: string, epoch: number, rank: number, state: string, extra: { exitCode?: number; signal?: string; message?: string } = {}): void {
    this.send({ sessionStatus: { session, epoch, rank, state, tsMs: Date.now(), ...extra } });
  }

  logs(session: string, epoch: number, rank: number, lines: Array<{ seq: number; text: string }>): void {
    this.send({ logBatch: { session, epoch, rank, lines: lines.map((l) => ({ ...l, tsMs: Date.now(), stream: 'stdout' })) } });
  }

  /** Waits for a message matching `pick` that arrived at or after index `from`. */
  async next<T>(pick: (m: CoordinatorMessage__Output) => T | undefined, timeoutMs = 10_000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) {
        const got = pick(this.received[i]!);
        if (got !== undefined) return got;
      }
      if (this.ended) throw new Error(`stream of ${this.nodeId} ended (${this.status?.details ?? 'no status'}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting on ${this.nodeId}; got ${JSON.stringify(this.received.map((m) => Object.keys(m).filter((k) => k !== 'body' && (m as Record<string, unknown>)[k])))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the stream ends (the coordinator closed it). */
  async waitEnded(timeoutMs = 10_000): Promise<grpc.StatusObject | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.status;
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

import * as grpc from '@grpc/grpc-js';
import { CLIENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type { AgentMessage, CoordinatorMessage__Output, StartSession__Output } from '../../common/proto/types.js';

/**
 * A node agent reduced to its stream: registers a CPU node, heartbeats, and answers every
 * `start` by printing the entry's arguments as log lines and exiting with `exitCode`.
 */
export class ScriptedAgent {
  readonly starts: StartSession__Output[] = [];
  private readonly client: grpc.Client & { Connect(): grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output> };
  private readonly call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output>;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(address: string, readonly nodeId: string, private readonly exitCode = 0) {
    const proto = loadProto();
    this.client = new proto.nsml.v1.AgentService(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS) as never;
    this.call = this.client.Connect();
    this.call.on('error', () => {});
    this.call.on('data', (m: CoordinatorMessage__Output) => this.onMessage(m));
    this.call.write({
      register: { nodeId, joinToken: '', inventory: { hostname: nodeId, cpus: 4, memoryMib: 8192, gpus: [], address: '127.0.0.1' }, running: [] },
    });
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.call.cancel();
    this.client.close();
  }

  private onMessage(m: CoordinatorMessage__Output): void {
    if (m.registered) {
      const every = Math.max(50, Number(m.registered.heartbeatIntervalMs) || 1000);
      this.heartbeat = setInterval(() => this.call.write({ heartbeat: { tsMs: Date.now(), running: [] } }), every);
    }
    if (m.start) this.run(m.start);
  }

  private run(start: StartSession__Output): void {
    this.starts.push(start);
    const { session, epoch, rank } = start;
    const status = (state: string, extra: Record<string, unknown> = {}) =>
      this.call.write({ sessionStatus: { session, epoch, rank, state, tsMs: Date.now(), ...extra } });
    status('starting');
    status('running');
    const lines = [`running ${start.entry}`, ...start.args].map((text, i) => ({ seq: i + 1, tsMs: Date.now(), stream: 'stdout', text }));
    this.call.write({ logBatch: { session, epoch, rank, lines } });
    setTimeout(() => status('exited', { exitCode: this.exitCode }), 100);
  }
}

import * as grpc from '@grpc/grpc-js';
import { AGENT_CHANNEL_OPTIONS, deadline, tokenMetadata } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type {
  AgentMessage, AgentServiceClient, CheckpointServiceClient, CoordinatorMessage__Output, GpuInfo, StartSession__Output, StopSession__Output,
} from '../../common/proto/types.js';
import type { JobBook } from './job-book.js';
import type { ScaledClock } from './scaled-clock.js';

export interface SimAgentOptions {
  address: string;
  nodeId: string;
  gpus: number;
  clock: ScaledClock;
  book: JobBook;
  /** The user whose sessions these are (checkpoints are registered as them). */
  user: string;
  /** An uploaded (empty) manifest blob that every checkpoint points at. */
  manifest: string;
  checkpoints: CheckpointServiceClient;
}

interface Rank {
  session: string;
  /** The trace job (REPLAY_JOB in its environment): the JobBook's key. */
  job: string;
  epoch: number;
  rank: number;
  timers: NodeJS.Timeout[];
}

function gpuList(count: number): GpuInfo[] {
  return Array.from({ length: count }, (_, index) => ({ index, uuid: `GPU-${index}`, name: 'Replay GPU', memoryTotalMib: 81920, health: 'ok', processes: [] }));
}

/**
 * A node agent over the real AgentService stream whose processes only pretend: a started rank
 * reports running, registers a checkpoint every interval of work (rank 0, through the real
 * CheckpointService), and exits 0 once the job's remaining work has passed in trace time; a
 * stopped rank exits after the grace period, keeping the work up to its last checkpoint.
 */
export class SimAgent {
  private readonly client: AgentServiceClient;
  private readonly call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output>;
  private readonly ranks = new Map<string, Rank>();
  checkpointFailures = 0;
  /** The credential the coordinator issued at registration: checkpoints are registered with it, for the session. */
  private nodeSecret = '';

  private constructor(private readonly o: SimAgentOptions, registered: () => void) {
    this.client = new (loadProto().nsml.v1.AgentService)(o.address, grpc.credentials.createInsecure(), { ...AGENT_CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 });
    this.call = this.client.Connect();
    this.call.on('data', (m: CoordinatorMessage__Output) => {
      if (m.registered) {
        this.nodeSecret = m.registered.nodeSecret || this.nodeSecret;
        registered();
      }
      if (m.start) this.start(m.start);
      if (m.stop) this.stop(m.stop);
    });
    this.call.on('error', () => undefined);
    this.call.write({ register: { nodeId: o.nodeId, inventory: { hostname: o.nodeId, cpus: 64, memoryMib: 512 * 1024, gpus: gpuList(o.gpus) }, running: [] } });
  }

  static start(o: SimAgentOptions): Promise<SimAgent> {
    return new Promise((resolve) => {
      const agent: SimAgent = new SimAgent(o, () => resolve(agent));
    });
  }

  private status(r: Pick<Rank, 'session' | 'epoch' | 'rank'>, state: string, extra: { exitCode?: number; signal?: string } = {}): void {
    this.call.write({ sessionStatus: { session: r.session, epoch: r.epoch, rank: r.rank, state, tsMs: this.o.clock.now(), ...extra } });
  }

  private start(s: StartSession__Output): void {
    const key = `${s.session}|${s.epoch}|${s.rank}`;
    if (this.ranks.has(key)) return;
    const job = s.env.REPLAY_JOB ?? '';
    const r: Rank = { session: s.session, job, epoch: s.epoch, rank: s.rank, timers: [] };
    this.ranks.set(key, r);
    this.status(r, 'running');
    const { book, clock } = this.o;
    if (!book.has(job)) {
      this.ranks.delete(key);
      this.status(r, 'exited', { exitCode: 0 });
      return;
    }
    const run = book.begin(job, s.epoch, clock.now());
    const at = (traceMs: number, fn: () => void) => r.timers.push(setTimeout(fn, clock.real(traceMs - clock.now())));
    at(run.finishAtMs, () => {
      this.ranks.delete(key);
      book.finish(job, s.epoch);
      this.status(r, 'exited', { exitCode: 0 });
    });
    if (s.rank === 0) book.checkpointTimes(job).forEach((t, i) => at(t, () => this.checkpoint(r, `e${s.epoch}-${i + 1}`)));
  }

  private stop(s: StopSession__Output): void {
    for (const [key, r] of this.ranks) {
      if (r.session !== s.session || (s.epoch !== 0 && r.epoch !== s.epoch)) continue;
      for (const t of r.timers) clearTimeout(t);
      this.ranks.delete(key);
      setTimeout(() => {
        if (this.o.book.has(r.job)) this.o.book.stop(r.job, r.epoch, this.o.clock.now());
        this.status(r, 'exited', { signal: 'SIGTERM' });
      }, this.o.clock.real(s.graceMs));
    }
  }

  private checkpoint(r: Rank, name: string): void {
    const md = tokenMetadata(this.nodeSecret, r.session);
    const req = { session: r.session, epoch: r.epoch, name, manifest: this.o.manifest, summary: {}, source: 'sdk' };
    this.o.checkpoints.Register(req, md, { deadline: deadline(10_000) }, (err) => {
      if (err) this.checkpointFailures++;
    });
  }

  close(): void {
    for (const r of this.ranks.values()) for (const t of r.timers) clearTimeout(t);
    this.ranks.clear();
    this.call.end();
    this.call.cancel();
    this.client.close();
  }
}

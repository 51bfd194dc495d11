import type * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { AgentMessage__Output, CoordinatorMessage, NodeInventory__Output } from '../../common/proto/types.js';
import type { Register__Output } from '../../common/proto/generated/nsml/v1/Register.js';
import type { CoordinatorContext } from '../context.js';
import { heldDatasets } from '../datasets/held-datasets.js';
import { applyIdleReport } from '../sessions/idle-sessions.js';
import { ingestMetricBatch } from '../metrics/metric-ingest.js';
import type { AgentLink } from './agent-registry.js';
import { applyDiskReport } from './disk-report.js';
import { ingestLogBatch } from './log-ingest.js';
import { tokenKind } from '../../common/auth/token.js';
import { hasNodeSecret, hashNodeSecret, newNodeSecret, verifyNodeIdentity } from './node-identity.js';

type ConnectCall = grpc.ServerDuplexStream<AgentMessage__Output, CoordinatorMessage>;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** How long a fresh stream may take to send `register`. */
export const REGISTER_TIMEOUT_MS = 30_000;
/** Log acks list ranks whose session ended at most this long ago. */
const ACK_WINDOW_MS = 24 * 3600 * 1000;

const EMPTY_INVENTORY: NodeInventory__Output = {
  hostname: '', os: '', cpus: 0, memoryMib: 0, diskFreeMib: 0, gpus: [], agentVersion: '', address: '', gpuProbeError: '', labels: {}, isolation: '', pythons: [], containerRuntime: '',
};

function tokenMatches(expected: string, got: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(got).digest();
  return timingSafeEqual(a, b);
}

/** One agent's Connect stream: registration, then heartbeats, statuses and log batches in order. */
export class AgentConnection implements AgentLink {
  nodeId = '';
  private registered = false;
  private ended = false;
  private readonly registerTimer: NodeJS.Timeout;

  constructor(private readonly ctx: CoordinatorContext, private readonly call: ConnectCall) {
    this.registerTimer = setTimeout(() => this.fail(new NsmlError(ErrorCodes.INVALID_ARGUMENT, `no register message within ${REGISTER_TIMEOUT_MS} ms`)), REGISTER_TIMEOUT_MS);
    this.registerTimer.unref();
    call.on('data', (m: AgentMessage__Output) => this.onMessage(m));
    call.on('end', () => this.close('the agent ended the stream'));
    call.on('error', () => this.gone());
    call.on('cancelled', () => this.gone());
    call.on('close', () => this.gone());
  }

  send(message: CoordinatorMessage): boolean {
    if (this.ended) return false;
    this.call.write(message);
    return true;
  }

  close(reason: string): void {
    if (this.ended) return;
    this.ctx.options.logger.debug('closing agent stream', { nodeId: this.nodeId, reason });
    this.gone();
    this.call.end();
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    this.gone();
    this.call.emit('error', toServiceError(err));
  }

  private gone(): void {
    clearTimeout(this.registerTimer);
    if (this.ended) return;
    this.ended = true;
    if (this.registered && this.ctx.agents.detach(this)) {
      this.ctx.options.logger.info('agent disconnected', { nodeId: this.nodeId });
      this.ctx.scheduler.request();
    }
  }

  private onMessage(m: AgentMessage__Output): void {
    if (this.ended) return;
    try {
      if (!this.registered) {
        if (m.body !== 'register' || !m.register) throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `the first message must be register; got ${m.body ?? 'nothing'}`);
        this.register(m.register);
        return;
      }
      this.ctx.agents.heard(this.nodeId, this.ctx.options.clock.now(), m.heartbeat?.gpus);
      if (m.body === 'heartbeat' && m.heartbeat) {
        this.ctx.agents.setDatasets(this.nodeId, heldDatasets(m.heartbeat.datasets));
        if (m.heartbeat.running.length > 0) this.ctx.lifecycle.checkRunning(this.nodeId, m.heartbeat.running);
        applyIdleReport(this.ctx, this.nodeId, m.heartbeat.idleSessions);
        applyDiskReport({ store: this.ctx.store, scheduler: this.ctx.scheduler, logger: this.ctx.options.logger }, this.nodeId, m.heartbeat.disk);
      } else if (m.body === 'sessionStatus' && m.sessionStatus) {
        this.ctx.lifecycle.onStatus(this.nodeId, m.sessionStatus);
      } else if (m.body === 'logBatch' && m.logBatch) {
        const seq = ingestLogBatch(this.ctx.store, this.ctx.hub, this.nodeId, m.logBatch);
        this.send({ logAck: { session: m.logBatch.session, rank: m.logBatch.rank, seq } });
      } else if (m.body === 'metricBatch' && m.metricBatch) {
        const out = ingestMetricBatch(this.ctx.store, this.nodeId, m.metricBatch);
        if (out.last) this.ctx.commands.observeSteps(out.last);
        this.send({ metricAck: out.ack });
      } else if (m.body === 'commandResult' && m.commandResult) {
        const ack = this.ctx.commands.onResult(this.nodeId, m.commandResult);
        if (ack) this.send({ metricAck: ack });
      } else if (m.body === 'register') {
        throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, 'register may be sent only once per stream; reconnect to register again');
      }
    } catch (err) {
      if (err instanceof NsmlError && err.code !== ErrorCodes.INTERNAL) {
        this.fail(err);
        return;
      }
      // A write that failed (a full disk, a locked database) must not be skipped past: the stream
      // is reset, and the agent replays everything after what was stored once it registers again.
      this.ctx.options.logger.error('agent message failed; resetting its stream', { nodeId: this.nodeId, body: m.body, error: errorMessage(err) });
      this.fail(new NsmlError(ErrorCodes.COORDINATOR_UNAVAILABLE, `the coordinator could not store a ${m.body ?? 'message'} (${errorMessage(err)}); reconnect to replay it`, { cause: err }));
    }
  }

  private register(r: Register__Output): void {
    const { joinToken, clock, heartbeatIntervalMs, logger } = this.ctx.options;
    // The join token admits a node once: from then on it presents the credential issued to it.
    const known = r.nodeSecret !== '' && hasNodeSecret(this.ctx.store, r.nodeId, r.nodeSecret);
    if (joinToken !== undefined && !known && !tokenMatches(joinToken, r.joinToken)) {
      throw new NsmlError(ErrorCodes.UNAUTHENTICATED, `node ${r.nodeId || '(unnamed)'} presented ${r.joinToken ? 'a wrong' : 'no'} join token; start the agent with the cluster's join token`);
    }
    if (!NODE_ID.test(r.nodeId)) {
      throw new NsmlError(ErrorCodes.INVALID_NAME, `node id ${JSON.stringify(r.nodeId)} must be 1 to 128 letters, digits, ".", "_", ":" or "-"`);
    }
    // Before anything of the node is touched: a wrong or missing node secret changes nothing.
    const identity = verifyNodeIdentity(this.ctx.store, r.nodeId, r.nodeSecret, this.ctx.agents.isConnected(r.nodeId));
    clearTimeout(this.registerTimer);
    this.nodeId = r.nodeId;
    this.registered = true;
    const now = clock.now();
    this.ctx.agents.attach(this, now);
    // A secret from before node credentials were tokens is replaced by one (it authenticates blob fetches too).
    const nodeSecret = identity.issue || tokenKind(r.nodeSecret) !== 'node' ? newNodeSecret() : '';
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertNode(r.nodeId, { ...EMPTY_INVENTORY, ...(r.inventory ?? {}) }, now);
      if (nodeSecret) this.ctx.store.setNodeSecretHash(r.nodeId, hashNodeSecret(nodeSecret));
    });
    const logAcks = this.ctx.store.logAcksForNode(r.nodeId, now - ACK_WINDOW_MS);
    const metricAcks = this.ctx.store.metrics.acksForNode(r.nodeId, now - ACK_WINDOW_MS);
    this.send({ registered: { nodeId: r.nodeId, heartbeatIntervalMs, logAcks, metricAcks, nodeSecret } });
    logger.info('agent registered', { nodeId: r.nodeId, running: r.running.length, gpus: r.inventory?.gpus.length ?? 0 });
    this.ctx.lifecycle.reconcile(r.nodeId, r.running);
    this.ctx.commands.agentRegistered(r.nodeId);
    this.ctx.scheduler.request();
  }
}

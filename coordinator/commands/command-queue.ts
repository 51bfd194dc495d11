import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../common/clock.js';
import type { ControlBody } from '../../common/control-command.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandResult__Output, MetricAck } from '../../common/proto/types.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { Hub } from '../hub.js';
import { rankIsOnNode, type StepObservation } from '../metrics/metric-ingest.js';
import type { SessionRow, Store } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import { deliverCommand, settleCommand, type Outgoing } from './command-delivery.js';
import { StepTracker } from './step-tracker.js';
import { forEveryRank, isFinal, type CommandRow, type TargetRow } from './types.js';

export interface CommandQueueOptions {
  /** How often undelivered commands are retried and those of ended sessions failed. Default 1,000 ms. */
  sweepMs?: number;
  /** A gang's `set` is scheduled this far (in the furthest rank's progress) ahead. Default 1,000 ms. */
  gangLeadMs?: number;
}

export interface CompiledCommandQueueOptions {
  sweepMs: number;
  gangLeadMs: number;
}

export function compileCommandQueueOptions(o: CommandQueueOptions = {}): CompiledCommandQueueOptions {
  const positive = (name: string, v: number | undefined, fallback: number) => {
    const x = v ?? fallback;
    if (!Number.isFinite(x) || x <= 0) throw new NsmlError(ErrorCodes.CONFIG, `command queue option ${name} must be a positive number of milliseconds, got ${x}`);
    return x;
  };
  return { sweepMs: positive('sweepMs', o.sweepMs, 1_000), gangLeadMs: positive('gangLeadMs', o.gangLeadMs, 1_000) };
}

export interface CommandQueueDeps {
  store: Store;
  agents: Pick<AgentRegistry, 'isConnected' | 'send'>;
  hub: Hub;
  clock: Clock;
  logger: Logger;
}

export interface CommandView {
  command: CommandRow;
  targets: TargetRow[];
}

/**
 * Operator commands: persisted (`queued → delivered → applied | failed`), sent down the agent
 * streams to the session's ranks, answered by the scripts. Undelivered commands go out when
 * the rank's agent (re)connects; those of a session that ends fail.
 */
export class CommandQueue {
  private readonly o: CompiledCommandQueueOptions;
  private readonly finished = new EventEmitter();
  private readonly steps = new StepTracker();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CommandQueueDeps, options: CommandQueueOptions = {}) {
    this.o = compileCommandQueueOptions(options);
    this.finished.setMaxListeners(0);
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), this.o.sweepMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.finished.emit('closed');
  }

  /** Persists a command for `session` by `user` (who may: checked by the caller) and sends it where it can go now. */
  submit(s: SessionRow, user: string, body: ControlBody): CommandRow {
    if (isTerminal(s.state)) {
      throw new NsmlError(ErrorCodes.ALREADY_FINISHED, `session ${s.name} already finished (${s.state}${s.reason ? `: ${s.reason}` : ''}); commands go to running sessions`);
    }
    const id = `c-${randomBytes(6).toString('hex')}`;
    const ranks = forEveryRank(body.name) && s.epoch > 0 ? this.deps.store.assignments(s.name, s.epoch).map((a) => a.rank) : [];
    this.deps.store.commands.insert(
      { id, session: s.name, user, name: body.name, argsJson: JSON.stringify(body.args), createdMs: this.deps.clock.now() },
      ranks.length > 0 ? ranks : [0],
    );
    this.deps.logger.info('command queued', { session: s.name, command: body.name, id });
    this.deliver((cmd) => cmd.id === id);
    return this.deps.store.commands.get(id)!;
  }

  view(id: string): CommandView | undefined {
    const command = this.deps.store.commands.get(id);
    return command && { command, targets: this.deps.store.commands.targets(id) };
  }

  /** Resolves with the command once applied or failed, or as it is after `timeoutMs` (or on abort). */
  wait(id: string, timeoutMs: number, signal: AbortSignal): Promise<CommandRow> {
    const cmd = this.deps.store.commands.get(id);
    if (!cmd) return Promise.reject(new NsmlError(ErrorCodes.NOT_FOUND, `no command ${id}`));
    if (isFinal(cmd.state)) return Promise.resolve(cmd);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.finished.off(id, done);
        this.finished.off('closed', done);
        signal.removeEventListener('abort', done);
        offSession();
        resolve(this.deps.store.commands.get(id)!);
      };
      const timer = setTimeout(done, timeoutMs);
      this.finished.on(id, done);
      this.finished.on('closed', done);
      signal.addEventListener('abort', done);
      // A session that ends takes its open commands with it.
      const offSession = this.deps.hub.onSession(cmd.session, (row) => {
        if (isTerminal(row.state)) setImmediate(() => this.deliver((c) => c.session === row.name));
      });
      if (signal.aborted) done();
    });
  }

  /** A rank reported metrics: remember its step, for a gang's `set`. */
  observeSteps(o: StepObservation): void {
    this.steps.observe(o, this.deps.clock.now());
  }

  /** A command's result from the agent of `nodeId`; returns the ack to send when it carried a seq. */
  onResult(nodeId: string, r: CommandResult__Output): MetricAck | undefined {
    const ack = r.seq > 0 ? { session: r.session, epoch: r.epoch, rank: r.rank, seq: r.seq } : undefined;
    let final: CommandRow | undefined;
    this.deps.store.transaction(() => {
      if (!rankIsOnNode(this.deps.store, nodeId, r.session, r.epoch, r.rank)) return;
      if (ack && !this.deps.store.metrics.claimSeq(ack)) return;
      const cmd = this.deps.store.commands.get(r.id);
      const target = cmd && this.deps.store.commands.targets(r.id).find((t) => t.rank === r.rank);
      if (!cmd || !target || isFinal(target.state) || target.epoch !== r.epoch) return;
      const now = this.deps.clock.now();
      this.deps.store.commands.updateTarget(r.id, r.rank, {
        state: r.ok ? 'applied' : 'failed',
        finishedMs: now,
        step: typeof r.step === 'number' && Number.isFinite(r.step) ? r.step : null,
        result: { ok: r.ok, valueJson: r.valueJson, errorType: r.errorType, errorCode: r.errorCode, errorMessage: r.errorMessage, traceback: r.traceback },
      });
      const settled = settleCommand(this.deps.store, r.id, now);
      if (isFinal(settled.state)) final = settled;
    });
    if (final) this.announce(final);
    return ack;
  }

  /** An agent registered (after its ranks were reconciled): send what waits for it, again what it may have missed. */
  agentRegistered(nodeId: string): void {
    this.deliver(() => true, nodeId);
  }

  /** Retries undelivered commands; fails those of ended sessions. Runs on a timer. */
  sweep(): void {
    try {
      this.deliver(() => true);
    } catch (err) {
      this.deps.logger.error('command sweep failed', { error: errorMessage(err) });
    }
  }

  private deliver(which: (cmd: CommandRow) => boolean, redeliverNode?: string): void {
    const out: Outgoing[] = [];
    const finals: CommandRow[] = [];
    const deps = { ...this.deps, steps: this.steps, gangLeadMs: this.o.gangLeadMs };
    this.deps.store.transaction(() => {
      for (const cmd of this.deps.store.commands.open()) {
        if (!which(cmd)) continue;
        const now = deliverCommand(deps, cmd, out, redeliverNode);
        if (isFinal(now.state)) finals.push(now);
      }
    });
    for (const o of out) {
      if (!this.deps.agents.send(o.nodeId, o.message)) this.deps.logger.debug('agent gone; the command goes out when it reconnects', { nodeId: o.nodeId });
    }
    for (const f of finals) this.announce(f);
  }

  private announce(cmd: CommandRow): void {
    this.deps.logger.info('command finished', { session: cmd.session, id: cmd.id, state: cmd.state });
    if (isTerminal(this.deps.store.getSession(cmd.session)?.state ?? 'lost')) this.steps.forgetSession(cmd.session);
    this.finished.emit(cmd.id);
  }
}

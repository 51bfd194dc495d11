import { randomBytes } from 'node:crypto';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { Authenticator } from '../auth/authenticator.js';
import { userOf } from '../services/grpc-util.js';
import type { Store } from '../store/types.js';
import { execTarget, type ExecTarget } from './exec-start.js';
import { type ExecCall, pipeExec } from './exec-pipe.js';

/** How long the caller's first frame and the agent's dial-back may take. */
export const EXEC_START_TIMEOUT_MS = 15_000;
/** Dial-backs awaited at once; past it new execs are refused until some start or time out. */
export const MAX_PENDING_EXECS = 256;

export interface ExecBrokerDeps {
  store: Pick<Store, 'users' | 'getSession' | 'assignments'>;
  agents: Pick<AgentRegistry, 'send'>;
  auth: Authenticator;
  logger: Logger;
  closing: AbortSignal;
  startTimeoutMs?: number;
}

interface Pending {
  target: ExecTarget;
  user: ExecCall;
  timer: NodeJS.Timeout;
}

function fail(call: ExecCall, err: unknown): void {
  call.emit('error', toServiceError(err));
}

/** The first frame of a stream, then the stream paused; rejects when none comes in time. */
function firstFrame(call: ExecCall, timeoutMs: number): Promise<ExecFrame__Output> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      call.off('data', onData);
      call.off('end', onEnd);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new NsmlError(ErrorCodes.TIMEOUT, `no start frame within ${timeoutMs} ms; the first frame of an exec stream must be start`));
    }, timeoutMs);
    timer.unref();
    const onEnd = () => {
      stop();
      reject(new NsmlError(ErrorCodes.INVALID_ARGUMENT, 'the exec stream ended before its start frame; send start first'));
    };
    const onData = (frame: ExecFrame__Output) => {
      stop();
      call.pause();
      if (frame.body !== 'start' || !frame.start) reject(new NsmlError(ErrorCodes.INVALID_ARGUMENT, `the first frame of an exec stream must be start; got ${frame.body ?? 'an empty one'}`));
      else resolve(frame);
    };
    call.on('data', onData);
    call.on('end', onEnd);
  });
}

/**
 * Terminals into sessions: a caller's SessionService.Exec waits while the session's node is
 * asked (CoordinatorMessage.open_exec) to dial AgentService.Exec back with a random stream id;
 * the two streams are then piped together (exec-pipe.ts).
 */
export class ExecBroker {
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutMs: number;

  constructor(private readonly deps: ExecBrokerDeps) {
    this.timeoutMs = deps.startTimeoutMs ?? EXEC_START_TIMEOUT_MS;
    deps.closing.addEventListener('abort', () => {
      for (const [id, p] of [...this.pending]) {
        this.drop(id);
        fail(p.user, new NsmlError(ErrorCodes.COORDINATOR_UNAVAILABLE, 'the coordinator is shutting down; open the terminal again once it is back'));
      }
    }, { once: true });
  }

  /** SessionService.Exec. */
  fromCaller(call: ExecCall): void {
    void this.openForCaller(call).catch((err: unknown) => fail(call, err));
  }

  /** AgentService.Exec: the dial-back of an OpenExec. */
  fromAgent(call: ExecCall): void {
    void this.openForAgent(call).catch((err: unknown) => fail(call, err));
  }

  private async openForCaller(call: ExecCall): Promise<void> {
    const caller = userOf(this.deps.auth, call.metadata);
    const first = await firstFrame(call, this.timeoutMs);
    const target = execTarget(this.deps.store, caller, first.start!);
    if (this.pending.size >= MAX_PENDING_EXECS) {
      throw new NsmlError(ErrorCodes.TOO_LARGE, `${MAX_PENDING_EXECS} terminals are being opened at once; try again in a few seconds`);
    }
    const streamId = randomBytes(18).toString('base64url');
    const { session, epoch, rank, argv, tty, rows, cols, term } = target;
    const sent = this.deps.agents.send(target.nodeId, { openExec: { streamId, session, epoch, rank, argv, tty, size: { rows, cols }, term } });
    if (!sent) {
      throw new NsmlError(ErrorCodes.AGENT_UNAVAILABLE, `the agent of node ${target.nodeId} (rank ${rank} of ${session}) is not connected now; try again once \`nsml node ls\` shows it ready`);
    }
    const timer = setTimeout(() => {
      if (!this.pending.delete(streamId)) return;
      fail(call, new NsmlError(ErrorCodes.TIMEOUT, `the agent of node ${target.nodeId} did not open the terminal within ${this.timeoutMs} ms; check it with \`nsml node ls\` and try again`));
    }, this.timeoutMs);
    timer.unref();
    this.pending.set(streamId, { target, user: call, timer });
    call.on('cancelled', () => this.drop(streamId));
    this.deps.logger.info('exec requested', { session, rank, node: target.nodeId, tty, user: caller.user, shell: argv.length === 0 });
  }

  private async openForAgent(call: ExecCall): Promise<void> {
    const caller = this.deps.auth.caller(call.metadata);
    if (!caller.node || !caller.session) {
      throw new NsmlError(ErrorCodes.PERMISSION_DENIED, 'AgentService.Exec is for agents, with their node credential and the session in nsml-session metadata');
    }
    const first = await firstFrame(call, this.timeoutMs);
    const id = first.start!.streamId;
    const p = this.pending.get(id);
    if (!p || p.target.nodeId !== caller.node || p.target.session !== caller.session) {
      throw new NsmlError(ErrorCodes.NOT_FOUND, `no terminal ${JSON.stringify(id.slice(0, 64))} waits for node ${caller.node} (it timed out, or its caller went away)`);
    }
    this.drop(id);
    pipeExec(p.user, call, this.deps.closing, () => {
      this.deps.logger.debug('exec ended', { session: p.target.session, rank: p.target.rank });
    });
  }

  private drop(streamId: string): void {
    const p = this.pending.get(streamId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(streamId);
  }

  /** Terminals still waiting for their agent (for status). */
  get waiting(): number {
    return this.pending.size;
  }
}

import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import { type ClientTls, dial } from '../../common/grpc/credentials.js';
import { AGENT_CHANNEL_OPTIONS } from '../../common/grpc/options.js';
import { fromServiceError } from '../../common/grpc/status.js';
import { explainUnavailable } from '../../common/grpc/tls-probe.js';
import type { Logger } from '../../common/log.js';
import { loadProto } from '../../common/proto/load.js';
import type {
  AgentMessage, AgentServiceClient, CoordinatorMessage__Output, Heartbeat, Register, Registered__Output,
} from '../../common/proto/types.js';
import { Backoff } from './backoff.js';
import { sleep } from '../../common/sleep.js';

type Call = grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage__Output>;

/** The upward side of a registered stream. */
export interface StreamLink {
  /** Queues a message; false when the stream's buffer is full (wait for `drain`) or the stream is gone. */
  send(message: AgentMessage): boolean;
  /** False once the stream ended. */
  readonly open: boolean;
}

/** What the connection asks of the agent, one stream after another. */
export interface ConnectionHandler {
  /** The first message of a new stream. */
  register(): Promise<Register>;
  /** The coordinator answered `registered`: replay what it lacks. */
  registered(message: Registered__Output, link: StreamLink): void;
  heartbeat(): Promise<Heartbeat>;
  /** start, stop and log_ack. */
  message(message: CoordinatorMessage__Output): void;
  /** The stream can take more after `send` returned false. */
  drain(): void;
  /** The stream ended; nothing can be sent until the next `registered`. */
  disconnected(): void;
  /**
   * A stream failed with `err`: true when reconnecting cannot help (the coordinator refused this
   * agent, e.g. a wrong join token); the connection then stops for good (state `closed`).
   */
  refused?(err: unknown): boolean;
}

export interface ConnectionOptions {
  coordinator: string;
  /** Transport security; default plaintext. */
  tls?: ClientTls;
  registerTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Heartbeat interval when `registered` names none. */
  defaultHeartbeatMs?: number;
  logger: Logger;
  clock: Clock;
  random?: () => number;
}

export type ConnectionState = 'connecting' | 'connected' | 'backoff' | 'closed';

export interface ConnectionStatus {
  state: ConnectionState;
  coordinator: string;
  connectedSinceMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  /** Streams that ended or never registered. */
  failures: number;
  lastError: string | undefined;
}

/**
 * The agent's one stream to the coordinator (AgentService.Connect), kept open: register,
 * wait for `registered`, heartbeat at the coordinator's interval, hand downward messages to the
 * handler; when the stream ends, reconnect with exponential backoff and jitter.
 */
export class Connection {
  private state: ConnectionState = 'connecting';
  private readonly backoff: Backoff;
  private call: Call | undefined;
  private connectedSinceMs: number | undefined;
  private heartbeatIntervalMs: number | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private closing = false;
  private readonly wake = new AbortController();
  private readonly loop: Promise<void>;

  private constructor(private readonly options: ConnectionOptions, private readonly handler: ConnectionHandler) {
    this.backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs, options.random);
    this.loop = this.run();
  }

  /** Starts connecting in the background; never throws for an unreachable coordinator. */
  static start(options: ConnectionOptions, handler: ConnectionHandler): Connection {
    return new Connection(options, handler);
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      coordinator: this.options.coordinator,
      connectedSinceMs: this.connectedSinceMs,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Ends the stream (half-close, then cancel after `graceMs`) and stops reconnecting. */
  async close(graceMs = 1_000): Promise<void> {
    this.closing = true;
    this.wake.abort();
    const call = this.call;
    if (call) {
      call.end();
      const timer = setTimeout(() => call.cancel(), graceMs);
      await this.loop;
      clearTimeout(timer);
    }
    await this.loop;
  }

  /** Cancels the stream at once and stops reconnecting. */
  async destroy(): Promise<void> {
    this.closing = true;
    this.wake.abort();
    this.call?.cancel();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      this.state = 'connecting';
      let code: string | undefined;
      try {
        await this.attempt();
        this.lastError = 'the coordinator ended the stream';
      } catch (failure) {
        const err = await this.explain(failure);
        this.lastError = errorMessage(err);
        code = isNsmlError(err) ? err.code : undefined;
        if (!this.closing && this.handler.refused?.(err)) break;
      }
      if (this.closing) break;
      this.failures += 1;
      const delay = this.backoff.next();
      this.options.logger.warn('coordinator stream ended; reconnecting', { coordinator: this.options.coordinator, code, error: this.lastError, inMs: delay });
      this.state = 'backoff';
      await sleep(delay, this.wake.signal);
    }
    this.state = 'closed';
  }

  /** A stream that could not connect: the TLS mismatch behind it when there is one (NSML_E_TLS_*). */
  private async explain(err: unknown): Promise<unknown> {
    if (this.closing || !isNsmlError(err, ErrorCodes.COORDINATOR_UNAVAILABLE)) return err;
    return (await explainUnavailable(this.options.coordinator, this.options.tls ?? { mode: 'plaintext' })) ?? err;
  }

  private channelOptions(): grpc.ChannelOptions {
    return {
      ...AGENT_CHANNEL_OPTIONS,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.initial_reconnect_backoff_ms': this.options.reconnectMinMs,
      'grpc.max_reconnect_backoff_ms': this.options.reconnectMaxMs,
    };
  }

  /** One stream, from register to its end. Resolves when it ended cleanly, rejects otherwise. */
  private async attempt(): Promise<void> {
    const proto = loadProto();
    const { credentials, options } = dial(this.options.tls, this.options.coordinator, this.channelOptions());
    const client = new proto.nsml.v1.AgentService(this.options.coordinator, credentials, options) as AgentServiceClient;
    const call = client.Connect();
    this.call = call;
    const link = { open: false, send: (m: AgentMessage) => (link.open ? call.write(m) : false) };
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const settle = (err?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err instanceof NsmlError ? err : fromServiceError(err, this.options.coordinator));
          else resolve();
        };
        const timer = setTimeout(() => {
          settle(new NsmlError(ErrorCodes.TIMEOUT, `the coordinator at ${this.options.coordinator} did not answer register within ${this.options.registerTimeoutMs} ms`));
          call.cancel();
        }, this.options.registerTimeoutMs);
        call.on('data', (m: CoordinatorMessage__Output) => {
          if (link.open) return this.handler.message(m);
          if (m.body !== 'registered' || !m.registered) {
            settle(new NsmlError(ErrorCodes.INTERNAL, `expected registered as the coordinator's first message; got ${m.body}`));
            call.cancel();
            return;
          }
          clearTimeout(timer);
          link.open = true;
          heartbeat = this.onRegistered(m.registered, link);
        });
        call.on('drain', () => this.handler.drain());
        call.on('error', (err) => settle(err));
        call.on('end', () => settle());
        this.handler.register().then(
          (register) => call.write({ register }),
          (err) => { settle(err); call.cancel(); },
        );
      });
    } finally {
      clearTimeout(heartbeat);
      this.call = undefined;
      this.connectedSinceMs = undefined;
      if (link.open) {
        link.open = false;
        this.handler.disconnected();
      }
      call.cancel();
      client.close();
    }
  }

  private onRegistered(registered: Registered__Output, link: StreamLink & { open: boolean }): NodeJS.Timeout {
    this.backoff.reset();
    this.state = 'connected';
    this.connectedSinceMs = this.options.clock.now();
    const interval = registered.heartbeatIntervalMs > 0 ? registered.heartbeatIntervalMs : this.options.defaultHeartbeatMs ?? 1_000;
    this.heartbeatIntervalMs = interval;
    // The coordinator declares a node down after a few silent intervals, counted from its own
    // start after a restart: retrying at least every two intervals keeps a restarted coordinator
    // from giving up on this node while it backs off.
    this.backoff.limit(2 * interval);
    this.options.logger.info('registered with the coordinator', { coordinator: this.options.coordinator, heartbeatIntervalMs: interval });
    this.handler.registered(registered, link);
    const timer: NodeJS.Timeout = setTimeout(function beat(this: Connection) {
      void this.handler.heartbeat().then(
        (hb) => {
          if (!link.open) return;
          link.send({ heartbeat: hb });
          timer.refresh();
        },
        (err) => {
          this.options.logger.warn('cannot build a heartbeat', { error: errorMessage(err) });
          if (link.open) timer.refresh();
        },
      );
    }.bind(this), interval);
    return timer;
  }
}

import * as grpc from '@grpc/grpc-js';
import { coordinatorAddress } from '../common/config.js';
import { loadCredential, type Credential } from './credentials.js';
import { type NsmlError, isNsmlError } from '../common/errors.js';
import { type ClientTls, clientTlsFromEnv, compileClientTls, dial } from '../common/grpc/credentials.js';
import { CLIENT_CHANNEL_OPTIONS, DEADLINES_MS, deadline, tokenMetadata } from '../common/grpc/options.js';
import { fromServiceError } from '../common/grpc/status.js';
import { explainUnavailable } from '../common/grpc/tls-probe.js';
import { loadProto } from '../common/proto/load.js';
import type {
  AdminServiceClient,
  BlobServiceClient,
  ControlRequest,
  ControlResult__Output,
  DrainNodeRequest,
  GcReport__Output,
  HealthClient,
  ListSessionsRequest,
  LogsRequest,
  LogLine__Output,
  MetricsRequest,
  MetricsResponse__Output,
  Node__Output,
  QueueEntry__Output,
  QueueResponse__Output,
  RemoveSessionResponse__Output,
  Session__Output,
  SessionServiceClient,
  SubmitRequest,
  UserServiceClient,
  WhoAmIResponse__Output,
} from '../common/proto/types.js';

export interface ClientOptions {
  /** HOST:PORT; default `coordinatorAddress(env)`. */
  address?: string;
  /** The acting user's name when known (default: the one stored with the token; asked with WhoAmI otherwise). */
  user?: string;
  env?: NodeJS.ProcessEnv;
  /** How long the first call waits for a connection before NSML_E_COORDINATOR_UNAVAILABLE. */
  connectTimeoutMs?: number;
  /** The token to present; default NSML_TOKEN, else the credentials file's for the address. */
  token?: string;
  /** Transport security; default from `env`: NSML_CA, NSML_TLS, NSML_TLS_CERT, NSML_TLS_KEY (none: plaintext). */
  tls?: ClientTls;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** A collection walks every blob file: allow it minutes. */
const GC_DEADLINE_MS = 30 * 60_000;

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
type Invoke<T> = (metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<T>) => grpc.ClientUnaryCall;

/**
 * Typed calls to one coordinator over one channel. Every call carries the user and a deadline;
 * failures arrive as NsmlError with a stable code (`fromServiceError`).
 */
export class CoordinatorClient {
  readonly address: string;
  /** The user the token belongs to, when known without asking ('' otherwise: see `userName()`). */
  user: string;
  /** The token every call carries: NSML_TOKEN, else `nsml login`'s for this address ('' when none). */
  readonly credential: Credential | undefined;
  /** Raw blob client, for the chunked uploads of common/blobs. */
  readonly blobs: BlobServiceClient;
  readonly tls: ClientTls;
  private readonly channel: grpc.Channel;
  readonly sessions: SessionServiceClient;
  private readonly admin: AdminServiceClient;
  /** UserService: who am I, users, tokens (cli/commands/user.ts, token.ts). */
  readonly users: UserServiceClient;
  private readonly healthClient: HealthClient;
  private readonly connectTimeoutMs: number;
  private connected: Promise<void> | undefined;

  constructor(options: ClientOptions = {}) {
    const env = options.env ?? process.env;
    this.address = options.address ?? coordinatorAddress(env);
    this.credential = options.token !== undefined ? { token: options.token, user: options.user ?? '', source: 'the caller' } : loadCredential(this.address, env);
    this.user = options.user ?? this.credential?.user ?? '';
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.tls = options.tls ?? compileClientTls(clientTlsFromEnv(env));
    const { credentials, options: channelOptions } = dial(this.tls, this.address, CLIENT_CHANNEL_OPTIONS);
    this.channel = new grpc.Channel(this.address, credentials, channelOptions);
    const shared = { channelOverride: this.channel };
    const proto = loadProto();
    this.sessions = new proto.nsml.v1.SessionService(this.address, credentials, shared);
    this.admin = new proto.nsml.v1.AdminService(this.address, credentials, shared);
    this.users = new proto.nsml.v1.UserService(this.address, credentials, shared);
    this.blobs = new proto.nsml.v1.BlobService(this.address, credentials, shared);
    this.healthClient = new proto.grpc.health.v1.Health(this.address, credentials, shared);
  }

  /** Metadata for a call: the token (none when logged out: the coordinator answers NSML_E_UNAUTHENTICATED). */
  metadata(): grpc.Metadata {
    return tokenMetadata(this.credential?.token ?? '');
  }

  /** The acting user's name: known from the login, else asked once (WhoAmI). */
  async userName(signal?: AbortSignal): Promise<string> {
    if (this.user === '') this.user = (await this.whoami(signal)).user;
    return this.user;
  }

  /** Who the token belongs to. */
  whoami(signal?: AbortSignal): Promise<WhoAmIResponse__Output> {
    return this.call<WhoAmIResponse__Output>((md, o, cb) => this.users.WhoAmI({}, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** Resolves once connected; NSML_E_COORDINATOR_UNAVAILABLE when refused or silent too long. */
  ready(): Promise<void> {
    this.connected ??= this.waitConnected().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  submit(req: SubmitRequest, signal?: AbortSignal): Promise<Session__Output> {
    return this.call<Session__Output>((md, o, cb) => this.sessions.Submit(req, md, o, cb), DEADLINES_MS.submit, signal);
  }

  listSessions(req: ListSessionsRequest, signal?: AbortSignal): Promise<Session__Output[]> {
    return this.call<{ sessions: Session__Output[] }>((md, o, cb) => this.sessions.List(req, md, o, cb), DEADLINES_MS.quick, signal)
      .then((r) => r.sessions);
  }

  getSession(name: string, signal?: AbortSignal): Promise<Session__Output> {
    return this.call<Session__Output>((md, o, cb) => this.sessions.Get({ name }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  stopSession(name: string, graceMs = 0, signal?: AbortSignal): Promise<Session__Output> {
    return this.call<Session__Output>((md, o, cb) => this.sessions.Stop({ name, graceMs }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** One Wait round: returns at the end or after `timeoutMs` (at most 60 s) with the state then. */
  waitSession(name: string, timeoutMs: number, signal?: AbortSignal): Promise<Session__Output> {
    const bounded = Math.max(1, Math.min(60_000, Math.round(timeoutMs)));
    return this.call<Session__Output>((md, o, cb) => this.sessions.Wait({ name, timeoutMs: bounded }, md, o, cb), bounded + 10_000, signal);
  }

  /** The queue in the scheduling policy's order, each session with why it waits; `user` '' for everyone. */
  queue(user = '', signal?: AbortSignal): Promise<QueueResponse__Output> {
    return this.call<QueueResponse__Output>((md, o, cb) => this.sessions.Queue({ user }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** Why one session waits (or its state when it does not). */
  queueWhy(name: string, signal?: AbortSignal): Promise<QueueEntry__Output> {
    return this.call<QueueEntry__Output>((md, o, cb) => this.sessions.QueueWhy({ name }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** Sends an operator command and waits (up to `req.timeoutMs`, at most 600 s) for its result. */
  control(req: ControlRequest, signal?: AbortSignal): Promise<ControlResult__Output> {
    const waitMs = Math.min(600_000, Number(req.timeoutMs ?? 0) || 30_000);
    return this.call<ControlResult__Output>((md, o, cb) => this.sessions.Control(req, md, o, cb), waitMs + 10_000, signal);
  }

  /** One page of a session's stored metrics (or the latest per key), with its timeline. */
  metrics(req: MetricsRequest, signal?: AbortSignal): Promise<MetricsResponse__Output> {
    return this.call<MetricsResponse__Output>((md, o, cb) => this.sessions.Metrics(req, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** Opens a Logs stream; the caller resumes from the last cursor when it breaks. */
  logs(req: LogsRequest, deadlineMs: number): grpc.ClientReadableStream<LogLine__Output> {
    return this.sessions.Logs(req, this.metadata(), { deadline: deadline(deadlineMs) });
  }

  listNodes(signal?: AbortSignal): Promise<Node__Output[]> {
    return this.call<{ nodes: Node__Output[] }>((md, o, cb) => this.admin.ListNodes({}, md, o, cb), DEADLINES_MS.quick, signal)
      .then((r) => r.nodes);
  }

  drainNode(req: DrainNodeRequest, signal?: AbortSignal): Promise<Node__Output> {
    return this.call<Node__Output>((md, o, cb) => this.admin.DrainNode(req, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** Removes a node that is not connected and holds no session, so that its id can be registered anew. */
  forgetNode(id: string, signal?: AbortSignal): Promise<void> {
    return this.call<{ id: string }>((md, o, cb) => this.admin.ForgetNode({ id }, md, o, cb), DEADLINES_MS.quick, signal).then(() => undefined);
  }

  /** Removes an ended session with its logs, metrics and checkpoint records (`nsml rm`). */
  removeSession(name: string, signal?: AbortSignal): Promise<RemoveSessionResponse__Output> {
    return this.call<RemoveSessionResponse__Output>((md, o, cb) => this.sessions.Remove({ name }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  /** One collection of unreferenced blobs (admins); waits for one already running. */
  collectGarbage(dryRun: boolean, signal?: AbortSignal): Promise<GcReport__Output> {
    return this.call<GcReport__Output>((md, o, cb) => this.admin.CollectGarbage({ dryRun }, md, o, cb), GC_DEADLINE_MS, signal);
  }

  /** The standard gRPC health check of the whole server: 'SERVING' when it serves. */
  health(signal?: AbortSignal): Promise<string> {
    return this.call<{ status: string }>((md, o, cb) => this.healthClient.Check({ service: '' }, md, o, cb), DEADLINES_MS.quick, signal)
      .then((r) => r.status);
  }

  /** A client of another service of this coordinator, on its own channel with this client's transport security. */
  stub<T>(service: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => T): T {
    const { credentials, options } = dial(this.tls, this.address, CLIENT_CHANNEL_OPTIONS);
    return new service(this.address, credentials, options);
  }

  /** Turns a failed call into an NsmlError naming this coordinator. */
  toError(err: unknown): NsmlError {
    return isNsmlError(err) ? err : fromServiceError(err, this.address);
  }

  close(): void {
    this.sessions.close();
    this.admin.close();
    this.users.close();
    this.blobs.close();
    this.healthClient.close();
    this.channel.close();
  }

  /** One unary call with this client's token and a deadline (for the calls of cli/identity-client.ts and others). */
  unary<T>(invoke: Invoke<T>, deadlineMs: number = DEADLINES_MS.quick, signal?: AbortSignal): Promise<T> {
    return this.call(invoke, deadlineMs, signal);
  }

  private async call<T>(invoke: Invoke<T>, deadlineMs: number, signal?: AbortSignal): Promise<T> {
    await this.ready();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = invoke(this.metadata(), { deadline: deadline(deadlineMs) }, (err, value) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(this.toError(err));
        else resolve(value as T);
      });
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async waitConnected(): Promise<void> {
    const until = Date.now() + this.connectTimeoutMs;
    let state = this.channel.getConnectivityState(true);
    while (state !== grpc.connectivityState.READY) {
      if (state === grpc.connectivityState.TRANSIENT_FAILURE) throw await this.explain('connection failed');
      if (state === grpc.connectivityState.SHUTDOWN) throw this.unavailable('client closed');
      if (Date.now() >= until) throw await this.explain(`no connection within ${this.connectTimeoutMs} ms`);
      const previous = state;
      await new Promise<void>((resolve) => this.channel.watchConnectivityState(previous, new Date(until), () => resolve()));
      state = this.channel.getConnectivityState(true);
    }
  }

  /** The TLS mismatch behind a failed connection when there is one (NSML_E_TLS_*), else NSML_E_COORDINATOR_UNAVAILABLE. */
  private async explain(details: string): Promise<NsmlError> {
    return (await explainUnavailable(this.address, this.tls)) ?? this.unavailable(details);
  }

  private unavailable(details: string): NsmlError {
    return fromServiceError({ code: grpc.status.UNAVAILABLE, details, metadata: new grpc.Metadata() }, this.address);
  }
}

/** A client for the coordinator named by the environment (NSML_COORDINATOR, config, default). */
export function connectCoordinator(options: ClientOptions = {}): CoordinatorClient {
  return new CoordinatorClient(options);
}

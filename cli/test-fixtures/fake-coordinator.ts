import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { AUTH_KEY } from '../../common/grpc/options.js';

/** The fake takes `Bearer fake:NAME` as user NAME (fakeToken); anything else is `anonymous`. */
export const fakeToken = (user: string): string => `fake:${user}`;
const userOfCall = (call: any): string => /^Bearer fake:(.+)$/.exec(String(call.metadata.get(AUTH_KEY)[0] ?? ''))?.[1] ?? 'anonymous';
import { loadProto } from '../../common/proto/load.js';
import type { LogLine, Node, Session, SubmitRequest } from '../../common/proto/types.js';

type Handler = (...args: any[]) => void;

/**
 * A coordinator made of canned gRPC handlers (real gRPC on 127.0.0.1, port 0) for CLI tests.
 * Sessions, blobs and nodes live in plain maps; any handler can be replaced.
 */
export class FakeCoordinator {
  readonly blobs = new Map<string, Buffer>();
  readonly sessions = new Map<string, Session>();
  readonly submits: Array<{ user: string; request: SubmitRequest }> = [];
  readonly putHashes: string[] = [];
  readonly logsRequests: Array<{ fromCursor: number; follow: boolean }> = [];
  nodes: Node[] = [];
  lines = new Map<string, LogLine[]>();
  /** Replace to script the Logs stream. */
  logs: Handler = (call) => this.defaultLogs(call);
  /** Replace to script Wait. */
  wait: Handler = (call, cb) => this.reply(cb, () => this.get(call.request.name));
  address = '';
  private server = new grpc.Server();
  private counter = 0;

  static async start(): Promise<FakeCoordinator> {
    const fake = new FakeCoordinator();
    const proto = loadProto();
    fake.server.addService(proto.nsml.v1.SessionService.service, fake.sessionHandlers());
    fake.server.addService(proto.nsml.v1.BlobService.service, fake.blobHandlers());
    fake.server.addService(proto.nsml.v1.AdminService.service, fake.adminHandlers());
    fake.server.addService(proto.nsml.v1.UserService.service, { WhoAmI: (call: any, cb: Handler) => cb(null, { user: userOfCall(call), admin: false, node: '' }) } as any);
    fake.server.addService(proto.grpc.health.v1.Health.service, { Check: (_c: unknown, cb: Handler) => cb(null, { status: 'SERVING' }) } as any);
    const port = await new Promise<number>((resolve, reject) =>
      fake.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    fake.address = `127.0.0.1:${port}`;
    return fake;
  }

  /** Forgets every session, blob, call and scripted handler. */
  reset(): void {
    for (const m of [this.blobs, this.sessions, this.lines]) m.clear();
    for (const a of [this.submits, this.putHashes, this.logsRequests]) a.length = 0;
    this.nodes = [];
    this.counter = 0;
    this.logs = (call) => this.defaultLogs(call);
    this.wait = (call, cb) => this.reply(cb, () => this.get(call.request.name));
  }

  stop(): void {
    this.server.forceShutdown();
  }

  get(name: string): Session {
    const s = this.sessions.get(name);
    if (!s) throw Object.assign(new Error(`no session ${name}`), { code: grpc.status.NOT_FOUND });
    return s;
  }

  setState(name: string, state: string, extra: Partial<Session> = {}): void {
    Object.assign(this.get(name), { state }, extra);
  }

  private reply(cb: Handler, fn: () => unknown): void {
    try {
      cb(null, fn());
    } catch (err) {
      const e = err as { code?: number; message: string };
      const metadata = new grpc.Metadata();
      if (e.code === grpc.status.NOT_FOUND) metadata.set('nsml-error-code', 'NSML_E_SESSION_NOT_FOUND');
      cb({ code: e.code ?? grpc.status.INTERNAL, details: e.message, metadata });
    }
  }

  private sessionHandlers() {
    return {
      Submit: (call: any, cb: Handler) =>
        this.reply(cb, () => {
          const user = userOfCall(call);
          const request = call.request as SubmitRequest;
          this.submits.push({ user, request });
          this.counter += 1;
          const name = `${user}/${request.dataset || 'scratch'}/${this.counter}`;
          const session: Session = { name, user, state: 'queued', reason: 'waiting for 1 GPU', gpus: request.gpus, entry: request.entry, args: request.args, memo: request.memo, createdMs: Date.now(), workspace: request.workspace };
          this.sessions.set(name, session);
          return session;
        }),
      List: (call: any, cb: Handler) => this.reply(cb, () => ({ sessions: [...this.sessions.values()].filter((s) => call.request.all || !['succeeded', 'failed', 'stopped'].includes(s.state!)) })),
      Get: (call: any, cb: Handler) => this.reply(cb, () => this.get(call.request.name)),
      Stop: (call: any, cb: Handler) => this.reply(cb, () => Object.assign(this.get(call.request.name), { state: 'stopped', reason: 'stopped by user' })),
      Wait: (call: any, cb: Handler) => this.wait(call, cb),
      Logs: (call: any) => {
        this.logsRequests.push({ fromCursor: Number(call.request.fromCursor), follow: call.request.follow });
        this.logs(call, undefined);
      },
    };
  }

  private defaultLogs(call: any): void {
    for (const line of this.lines.get(call.request.name) ?? []) if (Number(line.cursor) > Number(call.request.fromCursor)) call.write(line);
    call.end();
  }

  private blobHandlers() {
    return {
      Has: (call: any, cb: Handler) => cb(null, { missing: (call.request.hashes as string[]).filter((h) => !this.blobs.has(h)), partial: {} }),
      Put: (call: any, cb: Handler) => {
        const parts = new Map<string, Buffer[]>();
        call.on('data', (chunk: { hash: string; data: Buffer }) => {
          if (!parts.has(chunk.hash)) parts.set(chunk.hash, []);
          parts.get(chunk.hash)!.push(Buffer.from(chunk.data));
        });
        call.on('end', () => {
          for (const [hash, list] of parts) {
            const data = Buffer.concat(list);
            if (createHash('sha256').update(data).digest('hex') !== hash) return cb({ code: grpc.status.DATA_LOSS, details: `bad blob ${hash}` });
            this.blobs.set(hash, data);
            this.putHashes.push(hash);
          }
          cb(null, { stored: [...parts.keys()], bytesReceived: 0 });
        });
      },
      Get: (call: any) => call.end(),
    };
  }

  private adminHandlers() {
    return {
      ListNodes: (_call: any, cb: Handler) => cb(null, { nodes: this.nodes }),
      DrainNode: (call: any, cb: Handler) =>
        this.reply(cb, () => {
          const node = this.nodes.find((n) => n.id === call.request.id);
          if (!node) throw Object.assign(new Error(`no node ${call.request.id}`), { code: grpc.status.NOT_FOUND });
          node.state = call.request.undrain ? 'ready' : 'draining';
          node.reason = call.request.reason;
          return node;
        }),
    };
  }
}

/** A log line of session `name` at `cursor`. */
export function line(cursor: number, text: string, stream = 'stdout', rank = 0): LogLine {
  return { cursor, rank, seq: cursor, tsMs: 1_000 + cursor, stream, text };
}

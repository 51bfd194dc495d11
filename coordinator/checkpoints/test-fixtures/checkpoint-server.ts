import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadBytes } from '../../../common/blobs/upload.js';
import type { Clock } from '../../../common/clock.js';
import { CLIENT_CHANNEL_OPTIONS, SERVER_CHANNEL_OPTIONS, tokenMetadata } from '../../../common/grpc/options.js';
import { Authenticator } from '../../auth/authenticator.js';
import { toServiceError } from '../../../common/grpc/status.js';
import { tokenInterceptor } from '../../../common/grpc/token-interceptor.js';
import { issueTestToken, useStateDir } from '../../../test/harness/test-coordinator.js';
import { BlobAccess } from '../../auth/blob-access.js';
import { encodeManifest } from '../../../common/manifest.js';
import { loadProto } from '../../../common/proto/load.js';
import type { BlobServiceClient, Checkpoint__Output, CheckpointServiceClient } from '../../../common/proto/types.js';
import { FileBlobStore } from '../../blobs/blob-store.js';
import { blobService } from '../../services/blob-service.js';
import { checkpointService } from '../../services/checkpoint-service.js';
import { openStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/types.js';
import { CheckpointRegistry } from '../checkpoint-registry.js';

/** A manual clock: tests move time on to order checkpoints. */
export class StepClock implements Clock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return (this.ms += 1000);
  }
}

/**
 * BlobService and CheckpointService on a real gRPC server (loopback, port 0) over a SQLite
 * state file and a blob folder in a temp directory; `reopen()` starts again on the same files.
 */
export class CheckpointServer {
  store!: Store;
  address = '';
  blobs!: BlobServiceClient;
  checkpoints!: CheckpointServiceClient;
  private server: grpc.Server | undefined;

  private constructor(readonly dir: string, readonly clock: StepClock) {}

  static async start(): Promise<CheckpointServer> {
    const s = new CheckpointServer(mkdtempSync(join(tmpdir(), 'nsml-ckpt-')), new StepClock());
    await s.open();
    return s;
  }

  /** A session of `user` placed `epoch` times (0: still queued); returns its name. */
  session(user = 'alice', epoch = 1, dataset = 'mnist'): string {
    const row = this.store.insertSession({
      user, dataset, gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {}, memo: '',
      workspace: '', priority: 0, timeLimitS: 0,
    }, this.clock.now(), 'submitted');
    if (epoch > 0) this.store.updateSession(row.name, { epoch, state: 'running' });
    return row.name;
  }

  /** Uploads files (path → [text, mode] or text) and registers them as SESSION/NAME at the session's epoch. */
  async save(session: string, name: string, files: Record<string, string | [string, number]>, summary: Record<string, number> = {}): Promise<Checkpoint__Output> {
    const row = this.store.getSession(session)!;
    const md = this.metadataOf(row.user);
    const entries = [];
    for (const [path, v] of Object.entries(files)) {
      const [text, mode] = typeof v === 'string' ? [v, 0o644] : v;
      const { hash } = await uploadBytes(this.blobs, Buffer.from(text), { metadata: md });
      entries.push({ path, mode, size: Buffer.byteLength(text), hash });
    }
    const manifest = (await uploadBytes(this.blobs, encodeManifest(entries).bytes, { metadata: md })).hash;
    return new Promise((resolve, reject) => {
      this.checkpoints.Register({ session, epoch: row.epoch, name, manifest, summary, source: 'sdk' }, md, { deadline: new Date(Date.now() + 10_000) },
        (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  /** Call metadata of `user` (made on first use, with a token issued in the state). */
  metadataOf(user: string): grpc.Metadata {
    return tokenMetadata(this.tokenOf(user));
  }

  /** A token of `user` (made on first use). */
  tokenOf(user: string): string {
    return issueTestToken(this.dir, user);
  }

  async reopen(): Promise<void> {
    await this.shut();
    await this.open();
  }

  async cleanup(): Promise<void> {
    await this.shut();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async open(): Promise<void> {
    this.store = openStore(join(this.dir, 'state.sqlite'));
    const blobStore = await FileBlobStore.open(join(this.dir, 'blobs'));
    const registry = new CheckpointRegistry({ store: this.store, blobs: blobStore, clock: this.clock });
    const proto = loadProto();
    const server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
    const auth = new Authenticator({ store: this.store, clock: this.clock });
    const blobAccess = new BlobAccess({ store: this.store, blobs: blobStore });
    server.addService(proto.nsml.v1.BlobService.service, blobService(blobStore, { auth, access: blobAccess, users: this.store.users }));
    server.addService(proto.nsml.v1.UserService.service, {
      WhoAmI: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        try {
          const c = auth.caller(call.metadata);
          cb(null, { user: c.user, admin: c.admin, node: c.node ?? '' });
        } catch (err) {
          cb(toServiceError(err));
        }
      },
    } as never);
    server.addService(proto.nsml.v1.CheckpointService.service, checkpointService(registry, { auth, store: this.store, blobs: blobStore, blobAccess }));
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
    this.address = `127.0.0.1:${port}`;
    const creds = grpc.credentials.createInsecure();
    useStateDir(this.dir);
    const asAlice = { ...CLIENT_CHANNEL_OPTIONS, interceptors: [tokenInterceptor(() => this.tokenOf('alice'))] };
    this.blobs = new proto.nsml.v1.BlobService(this.address, creds, asAlice);
    this.checkpoints = new proto.nsml.v1.CheckpointService(this.address, creds, asAlice);
  }

  private async shut(): Promise<void> {
    this.blobs?.close();
    this.checkpoints?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.tryShutdown(() => resolve()) : resolve()));
    this.server = undefined;
    this.store?.close();
  }
}

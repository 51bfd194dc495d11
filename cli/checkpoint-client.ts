import type * as grpc from '@grpc/grpc-js';
import { DEADLINES_MS } from '../common/grpc/options.js';
import { loadProto } from '../common/proto/load.js';
import type {
  Checkpoint__Output, CheckpointServiceClient, ListCheckpointsResponse__Output, RemoveCheckpointsResponse__Output,
} from '../common/proto/types.js';
import type { CoordinatorClient } from './client.js';
import { withClient } from './command.js';
import type { CliIo } from './io.js';

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/** Typed CheckpointService calls as the coordinator client's user, with deadlines and NsmlError failures. */
export class CheckpointClient {
  private readonly stub: CheckpointServiceClient;

  constructor(private readonly client: CoordinatorClient) {
    this.stub = client.stub(loadProto().nsml.v1.CheckpointService);
  }

  list(session: string, signal: AbortSignal): Promise<Checkpoint__Output[]> {
    return this.call<ListCheckpointsResponse__Output>((md, o, cb) => this.stub.List({ session, limit: 0 }, md, o, cb), signal).then((r) => r.checkpoints);
  }

  get(session: string, name: string, signal: AbortSignal): Promise<Checkpoint__Output> {
    return this.call((md, o, cb) => this.stub.Get({ session, name }, md, o, cb), signal);
  }

  remove(session: string, names: string[], signal: AbortSignal): Promise<string[]> {
    return this.call<RemoveCheckpointsResponse__Output>((md, o, cb) => this.stub.Remove({ session, names }, md, o, cb), signal).then((r) => r.removed);
  }

  close(): void {
    this.stub.close();
  }

  private call<T>(invoke: (md: grpc.Metadata, o: grpc.CallOptions, cb: Callback<T>) => grpc.ClientUnaryCall, signal: AbortSignal): Promise<T> {
    return this.client.unary(invoke, DEADLINES_MS.quick, signal);
  }
}

export async function withCheckpoints<T>(io: CliIo, fn: (client: CoordinatorClient, checkpoints: CheckpointClient) => Promise<T>): Promise<T> {
  return withClient(io, async (client) => {
    const checkpoints = new CheckpointClient(client);
    try {
      return await fn(client, checkpoints);
    } finally {
      checkpoints.close();
    }
  });
}

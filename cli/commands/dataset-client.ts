import * as grpc from '@grpc/grpc-js';
import { DEADLINES_MS, deadline } from '../../common/grpc/options.js';
import { loadProto } from '../../common/proto/load.js';
import type {
  CommitDatasetRequest, CommitDatasetResponse__Output, Dataset__Output, DatasetServiceClient, DatasetVersion__Output,
  ShareDatasetRequest,
} from '../../common/proto/types.js';
import type { CoordinatorClient } from '../client.js';

/** Committing checks every blob of the manifest: allow for big trees. */
const COMMIT_DEADLINE_MS = 120_000;

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/** Typed DatasetService calls as the coordinator client's user, with deadlines and NsmlError failures. */
export class DatasetClient {
  private readonly stub: DatasetServiceClient;

  constructor(private readonly client: CoordinatorClient) {
    this.stub = client.stub(loadProto().nsml.v1.DatasetService);
  }

  commit(req: CommitDatasetRequest, signal?: AbortSignal): Promise<CommitDatasetResponse__Output> {
    return this.call((md, o, cb) => this.stub.Commit(req, md, o, cb), COMMIT_DEADLINE_MS, signal);
  }

  list(owner = '', signal?: AbortSignal): Promise<Dataset__Output[]> {
    return this.call<{ datasets: Dataset__Output[] }>((md, o, cb) => this.stub.List({ owner }, md, o, cb), DEADLINES_MS.quick, signal).then((r) => r.datasets);
  }

  versions(name: string, signal?: AbortSignal): Promise<{ dataset: Dataset__Output | null; versions: DatasetVersion__Output[] }> {
    return this.call((md, o, cb) => this.stub.Versions({ name, version: 0 }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  resolve(name: string, version: number, signal?: AbortSignal): Promise<DatasetVersion__Output> {
    return this.call((md, o, cb) => this.stub.Resolve({ name, version }, md, o, cb), DEADLINES_MS.quick, signal);
  }

  remove(name: string, version: number, signal?: AbortSignal): Promise<DatasetVersion__Output[]> {
    return this.call<{ removed: DatasetVersion__Output[] }>((md, o, cb) => this.stub.Remove({ name, version }, md, o, cb), DEADLINES_MS.quick, signal)
      .then((r) => r.removed);
  }

  share(req: ShareDatasetRequest, signal?: AbortSignal): Promise<Dataset__Output> {
    return this.call((md, o, cb) => this.stub.Share(req, md, o, cb), DEADLINES_MS.quick, signal);
  }

  close(): void {
    this.stub.close();
  }

  private async call<T>(invoke: (md: grpc.Metadata, o: grpc.CallOptions, cb: Callback<T>) => grpc.ClientUnaryCall, deadlineMs: number, signal?: AbortSignal): Promise<T> {
    await this.client.ready();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = invoke(this.client.metadata(), { deadline: deadline(deadlineMs) }, (err, value) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(this.client.toError(err));
        else resolve(value as T);
      });
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Runs `fn` with a dataset client over `client`, closing it after. */
export async function withDatasets<T>(client: CoordinatorClient, fn: (datasets: DatasetClient) => Promise<T>): Promise<T> {
  const datasets = new DatasetClient(client);
  try {
    return await fn(datasets);
  } finally {
    datasets.close();
  }
}

import * as grpc from '@grpc/grpc-js';
import { type ClientTls, dial } from '../../common/grpc/credentials.js';
import { CLIENT_CHANNEL_OPTIONS, deadline, tokenMetadata } from '../../common/grpc/options.js';
import { fromServiceError } from '../../common/grpc/status.js';
import { loadProto } from '../../common/proto/load.js';
import type { BlobServiceClient, CheckpointServiceClient } from '../../common/proto/types.js';

/** The two coordinator services checkpoints use. One set per agent is enough; ranks share it. */
export interface CheckpointClients {
  checkpoints: CheckpointServiceClient;
  blobs: BlobServiceClient;
  /** The coordinator's address, for error messages. */
  target: string;
  /** Metadata of a call made for `session` (placed on this node): the node's credential and the session. */
  metadataFor(session: string): grpc.Metadata;
  close(): void;
}

/** Clients of the coordinator at `address` over one channel. */
export function createCheckpointClients(address: string, tls?: ClientTls, credential: () => string = () => ''): CheckpointClients {
  const proto = loadProto();
  const { credentials, options } = dial(tls, address, CLIENT_CHANNEL_OPTIONS);
  const channel = new grpc.Channel(address, credentials, options);
  const shared = { channelOverride: channel };
  const checkpoints = new proto.nsml.v1.CheckpointService(address, credentials, shared);
  const blobs = new proto.nsml.v1.BlobService(address, credentials, shared);
  return {
    checkpoints, blobs, target: address,
    metadataFor: (session) => tokenMetadata(credential(), session),
    close: () => {
      checkpoints.close();
      blobs.close();
      channel.close();
    },
  };
}


type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/** One unary call with `md` (see `metadataFor`) and a deadline; a failure arrives as NsmlError with the server's code. */
export function callAs<T>(
  md: grpc.Metadata, target: string, deadlineMs: number,
  invoke: (md: grpc.Metadata, options: grpc.CallOptions, cb: Callback<T>) => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    invoke(md, { deadline: deadline(deadlineMs) }, (err, value) => (err ? reject(fromServiceError(err, target)) : resolve(value as T)));
  });
}

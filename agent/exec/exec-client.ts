import type * as grpc from '@grpc/grpc-js';
import { type ClientTls, dial } from '../../common/grpc/credentials.js';
import { AGENT_CHANNEL_OPTIONS, tokenMetadata } from '../../common/grpc/options.js';
import type { ExecFrame, ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';
import type { AgentServiceClient } from '../../common/proto/generated/nsml/v1/AgentService.js';
import { loadProto } from '../../common/proto/load.js';

export type ExecStream = grpc.ClientDuplexStream<ExecFrame, ExecFrame__Output>;

/** Opens AgentService.Exec dial-backs to the coordinator. */
export interface ExecDialer {
  /** A new stream carrying the node's credential, acting for `session`. */
  dial(session: string): ExecStream;
  close(): void;
}

/** Dial-backs over one channel of their own (keepalive on: a terminal may stay quiet for hours). */
export function createExecDialer(address: string, tls: ClientTls | undefined, credential: () => string): ExecDialer {
  const proto = loadProto();
  const { credentials, options } = dial(tls, address, AGENT_CHANNEL_OPTIONS);
  let client: AgentServiceClient | undefined;
  return {
    dial: (session) => {
      client ??= new proto.nsml.v1.AgentService(address, credentials, options) as AgentServiceClient;
      return client.Exec(tokenMetadata(credential(), session));
    },
    close: () => client?.close(),
  };
}

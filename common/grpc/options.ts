import { Metadata, type ChannelOptions } from '@grpc/grpc-js';

/** Largest gRPC message either side accepts (manifests of big trees travel as blobs instead). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Deadlines for unary calls, by kind. Every call sets one. */
export const DEADLINES_MS = {
  quick: 10_000,
  submit: 30_000,
  wait: 70_000,
} as const;

/** Keepalive settings for the long-lived agent stream, spelled with units. */
export const AGENT_KEEPALIVE = {
  timeMs: 10_000,
  timeoutMs: 5_000,
} as const;

/**
 * Keepalive of the CLI's channel while a call is open (`logs -f`, `attach`, `exec`): a
 * connection that died silently (a NAT forgot it, a laptop slept) fails within about 30 s
 * instead of hanging. No pings without a call; the coordinator allows one every 5 s.
 */
export const CLIENT_KEEPALIVE = {
  timeMs: 20_000,
  timeoutMs: 10_000,
} as const;

export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': CLIENT_KEEPALIVE.timeMs,
  'grpc.keepalive_timeout_ms': CLIENT_KEEPALIVE.timeoutMs,
};

export const SERVER_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

export const AGENT_CHANNEL_OPTIONS: ChannelOptions = {
  ...CLIENT_CHANNEL_OPTIONS,
  'grpc.keepalive_time_ms': AGENT_KEEPALIVE.timeMs,
  'grpc.keepalive_timeout_ms': AGENT_KEEPALIVE.timeoutMs,
  'grpc.keepalive_permit_without_calls': 1,
};

export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}

/** Metadata key carrying the caller's token: `authorization: Bearer nsmlu_…` (or a node's `nsmln_…`). */
export const AUTH_KEY = 'authorization';

/** Metadata key naming the session an agent calls for (checkpoint save and load, its blobs). */
export const SESSION_KEY = 'nsml-session';

/** Metadata carrying a token (and, for an agent acting for a session, that session). */
export function tokenMetadata(token: string, session?: string): Metadata {
  const md = new Metadata();
  if (token) md.set(AUTH_KEY, `Bearer ${token}`);
  if (session) md.set(SESSION_KEY, session);
  return md;
}

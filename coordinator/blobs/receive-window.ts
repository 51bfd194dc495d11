import type { Http2Session } from 'node:http2';

/** HTTP/2 receive window of each stream on a connection that uploads blobs (the default is 64 KiB). */
export const STREAM_RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;
/** …and of the whole connection: the most bytes a client may have sent that the coordinator did not read yet. */
export const CONNECTION_RECEIVE_WINDOW_BYTES = 32 * 1024 * 1024;

const widened = new WeakSet<Http2Session>();

/**
 * Widens the HTTP/2 receive windows of the connection a call arrived on. With the 64 KiB
 * default, a sender stops every 64 KiB until the coordinator's event loop acknowledges, which
 * halves the upload rate on a busy node. grpc-js offers no server option for it, so this reaches
 * the connection through the call's internals (`call.call.stream.session`, grpc-js 1.14); where
 * they differ it does nothing and returns false (uploads stay correct, only slower).
 */
export function widenReceiveWindow(call: object): boolean {
  const session = sessionOf(call);
  if (!session) return false;
  if (widened.has(session)) return true;
  widened.add(session);
  try {
    session.setLocalWindowSize(CONNECTION_RECEIVE_WINDOW_BYTES);
    session.settings({ initialWindowSize: STREAM_RECEIVE_WINDOW_BYTES });
    return true;
  } catch {
    return false; // The connection is closing; nothing to widen.
  }
}

function sessionOf(call: object): Http2Session | undefined {
  const inner = (call as { call?: { stream?: { session?: unknown } } }).call;
  const session = inner?.stream?.session as Partial<Http2Session> | undefined;
  if (typeof session?.setLocalWindowSize !== 'function' || typeof session.settings !== 'function') return undefined;
  return session as Http2Session;
}

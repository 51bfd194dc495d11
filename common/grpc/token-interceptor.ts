import * as grpc from '@grpc/grpc-js';
import { AUTH_KEY } from './options.js';

/**
 * A client interceptor that puts `authorization: Bearer TOKEN` on every call that does not
 * carry one already, so a client made with it never forgets its token (and a call may still
 * name another one). `token` is read at each call: a re-login takes effect at once.
 */
export function tokenInterceptor(token: () => string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const t = token();
        if (t !== '' && metadata.get(AUTH_KEY).length === 0) metadata.set(AUTH_KEY, `Bearer ${t}`);
        next(metadata, listener);
      },
    });
}

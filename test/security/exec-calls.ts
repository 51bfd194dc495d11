import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../common/grpc/status.js';
import type { ExecFrame, ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';

export type ExecOutcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

type ExecClient = { Exec(md: grpc.Metadata): grpc.ClientDuplexStream<ExecFrame, ExecFrame__Output> };

/**
 * Opens an Exec stream (SessionService or AgentService), sends `frames`, and answers with the
 * refusal when one comes within `ms`; a stream still open after `ms` was let through (it is
 * cancelled). `open` receives the live call when it is kept open (`keep`), for a dial-back.
 */
export function execOutcome(client: grpc.Client, frames: ExecFrame[], md: grpc.Metadata, ms = 800): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    const call = (client as unknown as ExecClient).Exec(md);
    const got: unknown[] = [];
    const timer = setTimeout(() => {
      call.cancel();
      resolve({ ok: true, value: got });
    }, ms);
    call.on('data', (d) => got.push(d));
    call.on('error', (e: grpc.ServiceError) => {
      clearTimeout(timer);
      resolve(e.code === grpc.status.CANCELLED
        ? { ok: true, value: got }
        : { ok: false, code: String(e.metadata?.get(ERROR_CODE_KEY)?.[0] ?? `grpc ${e.code}`), message: e.details });
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve({ ok: true, value: got });
    });
    for (const f of frames) call.write(f);
  });
}

/** A SessionService.Exec left waiting for its dial-back (cancel it when done). */
export function openExec(client: grpc.Client, session: string, md: grpc.Metadata): grpc.ClientDuplexStream<ExecFrame, ExecFrame__Output> {
  const call = (client as unknown as ExecClient).Exec(md);
  call.on('error', () => {});
  call.write({ start: { session, rank: 0, argv: ['true'] } });
  return call;
}

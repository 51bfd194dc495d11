import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { ExecFrame, ExecFrame__Output } from '../../common/proto/generated/nsml/v1/ExecFrame.js';

export type ExecCall = grpc.ServerDuplexStream<ExecFrame__Output, ExecFrame>;

type Body = NonNullable<ExecFrame__Output['body']>;
/** What the caller may send toward the process, and what the agent may send back. */
const UP: ReadonlySet<Body> = new Set<Body>(['stdin', 'resize', 'signal', 'stdinEof']);
const DOWN: ReadonlySet<Body> = new Set<Body>(['stdout', 'stderr', 'exit']);

/** The frame with only its oneof member (decoded frames carry defaults for the rest). */
function only(frame: ExecFrame__Output): ExecFrame {
  const body = frame.body!;
  return { [body]: frame[body] } as ExecFrame;
}

/**
 * Pipes a caller's exec stream and an agent's dial-back together until the command's exit
 * frame, or until either side goes. Back-pressure: a side whose peer cannot take more is paused
 * until the peer drains (grpc-js buffers at most one flow-control window per stream). When the
 * caller goes, the agent's stream ends (the agent hangs the command up); when the agent goes
 * first, the caller gets NSML_E_AGENT_UNAVAILABLE.
 */
export function pipeExec(user: ExecCall, agent: ExecCall, closing: AbortSignal, onEnd: () => void): void {
  let done = false;
  const finish = (err?: unknown) => {
    if (done) return;
    done = true;
    closing.removeEventListener('abort', onClosing);
    if (err === undefined) user.end();
    else user.emit('error', toServiceError(err));
    agent.end();
    onEnd();
  };
  const onClosing = () => finish(new NsmlError(ErrorCodes.COORDINATOR_UNAVAILABLE, 'the coordinator is shutting down; the command was hung up'));
  closing.addEventListener('abort', onClosing);

  const forward = (from: ExecCall, to: ExecCall, allowed: ReadonlySet<Body>, side: string) => {
    from.on('data', (frame: ExecFrame__Output) => {
      if (done) return;
      if (!frame.body || !allowed.has(frame.body)) {
        finish(new NsmlError(ErrorCodes.INVALID_ARGUMENT, `the ${side} sent a ${frame.body ?? 'empty'} frame; it may send only ${[...allowed].join(', ')}`));
        return;
      }
      const last = frame.body === 'exit';
      const flowing = to.write(only(frame));
      if (last) finish();
      else if (!flowing) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.resume();
  };
  forward(agent, user, DOWN, 'agent');
  forward(user, agent, UP, 'caller');

  const agentGone = () => finish(new NsmlError(ErrorCodes.AGENT_UNAVAILABLE, "the node's agent ended the terminal before the command did (the agent restarted or lost the coordinator); run it again"));
  for (const e of ['end', 'error', 'cancelled', 'close']) agent.on(e, agentGone);
  // The caller half-closing is its stdin's end; going away hangs the command up.
  user.on('end', () => {
    if (!done) agent.write({ stdinEof: true });
  });
  for (const e of ['error', 'cancelled', 'close']) user.on(e, () => finish(new NsmlError(ErrorCodes.INVALID_ARGUMENT, 'the caller went away')));
}

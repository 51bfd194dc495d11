import type { ControlResult } from '../../common/proto/types.js';
import type { CommandView } from './command-queue.js';

/** A command as `Control` answers it: the first rank's result, or the first failure, and every rank. */
export function toControlResult({ command: c, targets }: CommandView): ControlResult {
  const first = targets[0];
  const failure = targets.find((t) => t.state === 'failed');
  const shown = c.state === 'failed' ? failure : first;
  const out: ControlResult = {
    id: c.id,
    session: c.session,
    command: c.name,
    state: c.state,
    ok: c.state === 'applied',
    valueJson: c.state === 'applied' ? (first?.result?.valueJson ?? '') : '',
    errorType: shown?.result?.ok === false ? shown.result.errorType : '',
    errorCode: shown?.result?.ok === false ? shown.result.errorCode : '',
    errorMessage: shown?.result?.ok === false ? shown.result.errorMessage : c.state === 'failed' ? c.reason : '',
    traceback: shown?.result?.ok === false ? shown.result.traceback : '',
    createdMs: c.createdMs,
    deliveredMs: c.deliveredMs,
    finishedMs: c.finishedMs,
    ranks: targets.map((t) => ({
      rank: t.rank,
      state: t.state,
      ...(t.step !== null ? { step: t.step } : {}),
      valueJson: t.result?.ok ? t.result.valueJson : '',
      errorMessage: t.result?.ok === false ? t.result.errorMessage : '',
    })),
  };
  const step = shown?.step ?? first?.step;
  if (step !== null && step !== undefined) out.step = step;
  if (c.atStep !== null) out.atStep = c.atStep;
  return out;
}

import { isAlive, type ProcessIdentity } from './proc.js';
import type { RankContext, RankEnd } from './rank-context.js';
import type { SessionDir } from './session-dir.js';
import { sleep } from '../../common/sleep.js';

interface ExitFile {
  exitCode: number | null;
  signal: string | null;
  message?: string;
  endedMs: number;
}

/** The end the supervisor recorded, if it did. */
export function readExit(dir: SessionDir): RankEnd | undefined {
  const e = dir.readJson<ExitFile>('exit.json');
  if (!e) return undefined;
  return { exitCode: e.exitCode, signal: e.signal, message: e.message ?? '', endedMs: e.endedMs };
}

/** The end of a rank whose supervisor died without recording one (killed, or the node rebooted). */
export function lostEnd(nowMs: number): RankEnd {
  return {
    exitCode: null,
    signal: 'SIGKILL',
    message: 'the session supervisor ended without recording an exit status (it was killed, or the node restarted)',
    endedMs: nowMs,
  };
}

/**
 * Hook 4: waits for the rank's end. The supervisor writes exit.json once the output is
 * complete; a supervisor that is gone without it means the process was killed with it.
 * Works the same for a process this agent started and for one it re-adopted.
 */
export async function exited(ctx: RankContext, supervisor: ProcessIdentity): Promise<RankEnd> {
  for (;;) {
    const end = readExit(ctx.dir);
    if (end) return end;
    if (!isAlive(supervisor)) return readExit(ctx.dir) ?? lostEnd(ctx.deps.clock.now());
    await sleep(ctx.deps.pollMs, ctx.signal);
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
  }
}

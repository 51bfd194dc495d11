import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { diskFullError } from '../disk/disk-errors.js';
import type { ProcessIdentity } from './proc.js';
import type { Launch, RankContext } from './rank-context.js';

/** How long the supervisor may take to announce itself. */
const ANNOUNCE_TIMEOUT_MS = 15_000;

/**
 * Hook 3: starts the rank's supervisor (agent/runner/supervisor.py) in a session and process
 * group of its own, with no pipe to the agent (it sends its own errors to supervisor.log), so that it and the user process it starts
 * survive the agent. Resolves once the supervisor wrote supervisor.json.
 */
export async function start(ctx: RankContext, launch: Launch): Promise<ProcessIdentity> {
  const { dir, deps } = ctx;
  if (!dir.writeJson('launch.json', launch)) {
    throw diskFullError(`${dir.file('launch.json')} (the supervisor cannot start without it)`, new Error('ENOSPC'));
  }
  let exited: { code: number | undefined; error: string } | undefined;
  // -S: the supervisor uses only the standard library; skipping `site` saves its start-up time.
  const child = execa(deps.python, ['-S', deps.supervisorPath, dir.root], {
    cwd: dir.root,
    detached: true,
    cleanup: false,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' },
    extendEnv: false,
  });
  child.unref();
  void child.then((r) => {
    exited = { code: r.exitCode, error: r.failed && r.exitCode === undefined ? errorMessage(r) : '' };
  });
  const until = Date.now() + ANNOUNCE_TIMEOUT_MS;
  for (;;) {
    const announced = dir.readJson<{ pid: number; startTicks: string | null }>('supervisor.json');
    if (announced) return { pid: announced.pid, startTicks: announced.startTicks ?? null };
    if (exited) throw supervisorFailed(ctx, exited);
    if (Date.now() > until) {
      throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the session supervisor did not start within ${ANNOUNCE_TIMEOUT_MS} ms; check that ${deps.python} runs on this node`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function supervisorFailed(ctx: RankContext, exited: { code: number | undefined; error: string }): NsmlError {
  let log = '';
  try {
    log = readFileSync(ctx.dir.file('supervisor.log'), 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    // no log
  }
  const why = exited.error || `it exited with code ${exited.code}${log ? `: ${log}` : ''}`;
  return new NsmlError(
    ErrorCodes.SPAWN_FAILED,
    `cannot start the session supervisor with ${ctx.deps.python} (${why}); install Python 3 on the node (python3 on the agent's PATH), or start the agent with --python /path/to/python3`,
  );
}

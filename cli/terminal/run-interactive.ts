import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Session__Output } from '../../common/proto/types.js';
import { sleep } from '../../common/sleep.js';
import { attachShell } from '../commands/attach.js';
import type { CoordinatorClient } from '../client.js';
import type { CliIo } from '../io.js';
import { isTerminal } from '../retry.js';

/** How often `nsml run -i` looks whether the session runs yet. */
const POLL_MS = 250;

/** Waits until the session runs (or ends: NSML_E_SESSION_NOT_RUNNING, naming how it ended). */
export async function waitUntilRunning(client: Pick<CoordinatorClient, 'getSession'>, name: string, signal: AbortSignal): Promise<Session__Output> {
  for (;;) {
    const s = await client.getSession(name, signal);
    if (s.state === 'running') return s;
    if (isTerminal(s.state)) {
      throw new NsmlError(ErrorCodes.SESSION_NOT_RUNNING, `session ${name} ended (${s.state}${s.reason ? `: ${s.reason}` : ''}) before a shell could be opened in it; see \`nsml logs ${name}\``);
    }
    if (signal.aborted) throw new NsmlError(ErrorCodes.USAGE, `interrupted while ${name} was ${s.state}; it stays queued: \`nsml attach ${name}\` once it runs`);
    await sleep(POLL_MS, signal);
  }
}

/**
 * `nsml run -i` (NSML's interactive mode): once the submitted session runs, a shell in it; the
 * session keeps running after the shell exits. Resolves to the shell's exit status.
 */
export async function runInteractive(io: CliIo, client: CoordinatorClient, name: string): Promise<number> {
  io.err(`${name}: waiting until it runs, then opening a shell in it (exit leaves it running)\n`);
  await waitUntilRunning(client, name, io.signal);
  const status = await attachShell(client, io, name);
  io.err(`${name} keeps running: \`nsml logs -f ${name}\` to follow, \`nsml attach ${name}\` to come back, \`nsml stop ${name}\` to stop\n`);
  return status;
}

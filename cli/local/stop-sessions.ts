import { errorMessage } from '../../common/errors.js';
import { CoordinatorClient } from '../client.js';

const TERMINAL = new Set(['succeeded', 'failed', 'stopped', 'preempted', 'lost']);

/**
 * Asks the embedded coordinator to stop every active session of every user, then waits (up to
 * `timeoutMs`) until they have ended, so `nsml down` leaves no training process behind.
 * Returns the names it stopped and the ones it could not.
 */
export async function stopActiveSessions(
  address: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ stopped: string[]; failed: Array<{ name: string; error: string }> }> {
  const client = new CoordinatorClient({ address, env, connectTimeoutMs: 2_000 });
  const stopped: string[] = [];
  const failed: Array<{ name: string; error: string }> = [];
  try {
    const active = (await client.listSessions({ all: false, user: '*', limit: 10_000 })).filter((s) => !TERMINAL.has(s.state));
    for (const session of active) {
      try {
        await client.stopSession(session.name);
        stopped.push(session.name);
      } catch (err) {
        failed.push({ name: session.name, error: errorMessage(err) });
      }
    }
    const until = Date.now() + timeoutMs;
    for (const name of stopped) {
      const left = until - Date.now();
      if (left <= 0) break;
      await client.waitSession(name, left).catch(() => undefined);
    }
  } finally {
    client.close();
  }
  return { stopped, failed };
}

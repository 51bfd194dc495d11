import { errorMessage } from '../common/errors.js';
import type { AgentOptions } from './options.js';

/**
 * Runs the agent in the foreground until SIGTERM or SIGINT, then closes it gracefully (its
 * sessions keep running and are re-adopted by the next start). A second signal forces the
 * close. Resolves to the process exit code: 1 as well when the coordinator refused the agent
 * for good (agent/refusal.ts), after closing it.
 */
export async function runAgentUntilSignal(options: AgentOptions, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Promise<number> {
  const { startAgent } = await import('./main.js');
  const agent = await startAgent(options);
  return new Promise<number>((resolve) => {
    let closing = false;
    const finish = (code: number) => {
      for (const s of signals) process.off(s, onSignal);
      resolve(code);
    };
    function onSignal(): void {
      if (closing) {
        void agent.destroy().then(() => finish(1), () => finish(1));
        return;
      }
      closing = true;
      agent.close().then(() => finish(0), (err) => {
        options.logger?.error('the agent did not close cleanly', { error: errorMessage(err) });
        finish(1);
      });
    }
    for (const s of signals) process.on(s, onSignal);
    void agent.refusal.then((err) => {
      if (closing) return;
      closing = true;
      options.logger?.error('the coordinator refused this agent; exiting', { code: err.code, error: err.message });
      agent.close().then(() => finish(1), () => finish(1));
    });
  });
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { CliIo } from '../io.js';
import { isServing, rememberAddress } from './embedded.js';
import { logInAsFirstAdmin } from './first-login.js';
import type { LocalPaths } from './paths.js';
import { untilAborted } from './signals.js';

/**
 * `nsml up --foreground`: a coordinator and one agent in this process, on 127.0.0.1, until
 * Ctrl-C or SIGTERM; then the agent closes, then the coordinator.
 */
export async function runForeground(paths: LocalPaths, { port, httpPort }: { port: number; httpPort: number }, io: CliIo): Promise<number> {
  const address = `127.0.0.1:${port}`;
  if (await isServing(address, io.env)) {
    throw new NsmlError(ErrorCodes.CONFIG, `a coordinator already answers at ${address}; stop it (\`nsml down\`) or pick another --port`);
  }
  const [{ startCoordinator }, { startAgent }] = await Promise.all([import('../../coordinator/main.js'), import('../../agent/main.js')]);
  const coordinator = await startCoordinator({ dataDir: paths.coordinatorData, host: '127.0.0.1', port, httpPort });
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    agent = await startAgent({ coordinator: coordinator.address, dataDir: paths.agentData, advertiseAddress: '127.0.0.1' });
    rememberAddress(io.env, coordinator.address);
    logInAsFirstAdmin(paths, coordinator.address, io.env);
    io.out(`nsml is up in the foreground: coordinator ${coordinator.address}; Ctrl-C to stop\n`);
    io.out(`metrics: http://127.0.0.1:${coordinator.httpPort!}/metrics\n`);
    await untilAborted(io.signal);
    io.err('stopping the agent and the coordinator\n');
  } finally {
    await agent?.close();
    await coordinator.close();
  }
  return 0;
}

import { join } from 'node:path';
import { nsmlHome } from '../../common/config.js';

/** Where `nsml up` keeps its state, all under $NSML_HOME. */
export interface LocalPaths {
  home: string;
  coordinatorData: string;
  agentData: string;
  logDir: string;
  runDir: string;
  coordinatorLog: string;
  agentLog: string;
  coordinatorPid: string;
  agentPid: string;
  /** {address, port} of the running embedded cluster. */
  upState: string;
}

export function localPaths(env: NodeJS.ProcessEnv): LocalPaths {
  const home = nsmlHome(env);
  const logDir = join(home, 'logs');
  const runDir = join(home, 'run');
  return {
    home,
    coordinatorData: join(home, 'coordinator'),
    agentData: join(home, 'agent'),
    logDir,
    runDir,
    coordinatorLog: join(logDir, 'coordinator.log'),
    agentLog: join(logDir, 'agent.log'),
    coordinatorPid: join(runDir, 'coordinator.pid'),
    agentPid: join(runDir, 'agent.pid'),
    upState: join(runDir, 'up.json'),
  };
}

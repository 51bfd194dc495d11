import { DEFAULT_PORT } from '../../common/config.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { type Command, printUsage } from '../command.js';
import { intFlag, parseFlags, usageError } from '../flags.js';
import { type CliIo, printJson } from '../io.js';
import { embeddedStatus, isServing, localAgentPid, readUpState, rememberAddress, waitUntil, writeUpState } from '../local/embedded.js';
import { logInAsFirstAdmin } from '../local/first-login.js';
import { type LocalPaths, localPaths } from '../local/paths.js';
import { stopActiveSessions } from '../local/stop-sessions.js';
import { isNsmlProcess, readPid, removeFile, spawnDetached, stopProcess, writePid } from '../local/processes.js';

const UP_USAGE = `Usage: nsml up [--port P] [--http-port P] [--foreground]

Starts a coordinator and one agent on this machine, listening on 127.0.0.1 only, with their
data under $NSML_HOME (default ~/.nsml): coordinator/, agent/, logs/, run/. Waits until the
agent has registered, then points this CLI at it ($NSML_HOME/config.json). Does nothing if
it is already up.

Options:
  --port P        the coordinator's port (default ${DEFAULT_PORT})
  --http-port P   the coordinator's HTTP port, with Prometheus metrics at /metrics (no token;
                  127.0.0.1 only) (default: --port + 1)
  --foreground    run both in this terminal until Ctrl-C instead of in the background
`;

const DOWN_USAGE = `Usage: nsml down [--keep-sessions]

Stops the sessions that still run, then the coordinator and the agent that \`nsml up\` started
(SIGTERM, then SIGKILL after 10s).

Options:
  --keep-sessions  leave running sessions alone; the next \`nsml up\` re-adopts them
`;

const STATUS_USAGE = `Usage: nsml status [--json]

Tells whether the coordinator and agent of \`nsml up\` run. Exit status 0 when up, 1 when not.
`;

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export const upCommand: Command = {
  usage: UP_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, { port: { type: 'string' }, 'http-port': { type: 'string' }, foreground: { type: 'boolean' } } as const, 'up');
    if (!parsed) return printUsage(io, UP_USAGE);
    const paths = localPaths(io.env);
    const saved = readUpState(paths);
    const port = intFlag(parsed.values.port, '--port', saved?.port ?? DEFAULT_PORT, 1, 65535);
    const samePort = parsed.values.port === undefined || Number(parsed.values.port) === saved?.port;
    const httpPort = intFlag(parsed.values['http-port'], '--http-port', (samePort ? saved?.httpPort : undefined) ?? nextPort(port), 1, 65535);
    if (httpPort === port) throw usageError(`--http-port must differ from --port (both ${port})`, 'up');
    if (parsed.values.foreground) {
      const { runForeground } = await import('../local/foreground.js');
      return runForeground(paths, { port, httpPort }, io);
    }
    return upInBackground(paths, { port, httpPort }, io);
  },
};

/** The default HTTP port: the one after the gRPC port (before it for 65535). */
function nextPort(port: number): number {
  return port < 65535 ? port + 1 : port - 1;
}

/** The line that tells where the coordinator's Prometheus metrics are. */
function metricsLine(httpPort: number): string {
  return `metrics: http://127.0.0.1:${httpPort}/metrics\n`;
}

async function upInBackground(paths: LocalPaths, ports: { port: number; httpPort: number }, io: CliIo): Promise<number> {
  const before = await embeddedStatus(paths, io.env);
  if (before.up && before.address) {
    rememberAddress(io.env, before.address);
    logInAsFirstAdmin(paths, before.address, io.env);
    io.out(`nsml is already up: coordinator ${before.address} (pid ${before.coordinator.pid}), agent (pid ${before.agent.pid})\n`);
    const running = readUpState(paths)?.httpPort;
    if (running !== undefined) io.out(metricsLine(running));
    return 0;
  }
  const { port } = ports;
  const address = before.coordinator.serving && before.address ? before.address : `127.0.0.1:${port}`;
  const httpPort = before.coordinator.serving ? readUpState(paths)?.httpPort : ports.httpPort;
  const coordinatorPid = before.coordinator.serving ? before.coordinator.pid! : await startCoordinator(paths, ports, address, io);
  logInAsFirstAdmin(paths, address, io.env);
  const agent = before.agent.running ? { pid: before.agent.pid!, gpus: -1 } : await startAgent(paths, address, io);
  rememberAddress(io.env, address);
  io.out(`nsml is up: coordinator ${address} (pid ${coordinatorPid}), agent (pid ${agent.pid})\n`);
  if (httpPort !== undefined) io.out(metricsLine(httpPort));
  io.out(`logs: ${paths.logDir}; stop with \`nsml down\`\n`);
  if (agent.gpus === 0) {
    io.out('note: the agent sees no GPU on this machine (nvidia-smi finds none), so sessions run on CPU only: leave out -g (or -g 0); -g 1 is refused\n');
  }
  if (io.env.NSML_COORDINATOR && io.env.NSML_COORDINATOR !== address) {
    io.err(`note: NSML_COORDINATOR=${io.env.NSML_COORDINATOR} overrides ${address} in this shell\n`);
  }
  return 0;
}

async function startCoordinator(paths: LocalPaths, { port, httpPort }: { port: number; httpPort: number }, address: string, io: CliIo): Promise<number> {
  if (isNsmlProcess(readPid(paths.coordinatorPid))) await stopProcess(readPid(paths.coordinatorPid), STOP_GRACE_MS);
  if (await isServing(address, io.env)) {
    throw new NsmlError(ErrorCodes.CONFIG, `something already answers at ${address} that \`nsml up\` did not start; stop it or pick another port with --port`);
  }
  const args = ['coordinator', '--host', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort), '--data', paths.coordinatorData];
  const pid = spawnDetached(args, paths.coordinatorLog, io.env);
  writePid(paths.coordinatorPid, pid);
  writeUpState(paths, address, port, httpPort);
  await waitUntil(async (c) => (await c.health()) === 'SERVING', {
    address, env: io.env, timeoutMs: START_TIMEOUT_MS, pid, logFile: paths.coordinatorLog, what: 'coordinator', signal: io.signal,
  });
  return pid;
}

/** Starts the agent and waits until it registered; how many GPUs it reported. */
async function startAgent(paths: LocalPaths, address: string, io: CliIo): Promise<{ pid: number; gpus: number }> {
  const startedAt = Date.now();
  // One user on a loopback cluster: its sessions run as itself, root too, unless NSML_AGENT_ISOLATION=users (agent/run-as).
  const env = { NSML_AGENT_ISOLATION: 'none', ...io.env };
  const pid = spawnDetached(['agent', '--coordinator', address, '--data', paths.agentData, '--advertise', '127.0.0.1'], paths.agentLog, env);
  writePid(paths.agentPid, pid);
  let gpus = -1;
  await waitUntil(async (c) => {
    const node = (await c.listNodes()).find((n) => n.state === 'ready' && n.lastHeartbeatMs >= startedAt - 1_000);
    gpus = node?.inventory?.gpus.length ?? -1;
    return node !== undefined;
  }, { address, env: io.env, timeoutMs: START_TIMEOUT_MS, pid, logFile: paths.agentLog, what: 'agent', signal: io.signal });
  return { pid, gpus };
}

export const downCommand: Command = {
  usage: DOWN_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, { 'keep-sessions': { type: 'boolean' } } as const, 'down');
    if (!parsed) return printUsage(io, DOWN_USAGE);
    const paths = localPaths(io.env);
    const address = readUpState(paths)?.address;
    if (!parsed.values['keep-sessions'] && address && (await isServing(address, io.env))) {
      const { stopped, failed } = await stopActiveSessions(address, io.env, STOP_GRACE_MS + 5_000);
      if (stopped.length > 0) io.out(`stopped ${stopped.length} session(s): ${stopped.join(', ')}\n`);
      for (const f of failed) io.err(`nsml: could not stop ${f.name}: ${f.error}\n`);
    }
    const agent = await stopProcess(localAgentPid(paths), STOP_GRACE_MS);
    const coordinator = await stopProcess(readPid(paths.coordinatorPid), STOP_GRACE_MS);
    removeFile(paths.agentPid);
    removeFile(paths.coordinatorPid);
    if (!agent && !coordinator) io.out('nsml was not up\n');
    else io.out(`stopped${agent ? ' the agent' : ''}${agent && coordinator ? ' and' : ''}${coordinator ? ' the coordinator' : ''}\n`);
    return 0;
  },
};

export const statusCommand: Command = {
  usage: STATUS_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, { json: { type: 'boolean' } } as const, 'status');
    if (!parsed) return printUsage(io, STATUS_USAGE);
    const status = await embeddedStatus(localPaths(io.env), io.env);
    if (parsed.values.json) printJson(io, status);
    else {
      const c = status.coordinator;
      const coordinator = c.serving ? `serving at ${status.address} (pid ${c.pid})` : c.running ? `running (pid ${c.pid}) but not answering` : 'not running';
      io.out(`nsml is ${status.up ? 'up' : 'down'}\n  coordinator: ${coordinator}\n  agent: ${status.agent.running ? `running (pid ${status.agent.pid})` : 'not running'}\n`);
    }
    return status.up ? 0 : 1;
  },
};

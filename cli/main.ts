import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../common/errors.js';
import { repoRoot } from '../common/proto/load.js';
import type { Command } from './command.js';
import { usageError } from './flags.js';
import { type CliIo, processIo } from './io.js';

interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

/** Every command, loaded on use so that `nsml ps` does not load the coordinator. */
const COMMANDS: Record<string, CommandEntry> = {
  run: { summary: 'submit this directory as a session and follow its logs', load: async () => (await import('./commands/run.js')).runCommand },
  fork: { summary: "start a session from another's checkpoint (--pause 1 --iteration C)", load: async () => (await import('./commands/fork.js')).forkSessionCommand },
  resume: { summary: 'continue a session from its newest checkpoint in a new session', load: async () => (await import('./commands/fork.js')).resumeSessionCommand },
  ps: { summary: 'list sessions', load: async () => (await import('./commands/ps.js')).psCommand },
  logs: { summary: "print a session's logs (-f to follow)", load: async () => (await import('./commands/logs.js')).logsCommand },
  stop: { summary: 'stop a session', load: async () => (await import('./commands/stop.js')).stopCommand },
  rm: { summary: 'remove ended sessions with their logs, metrics and checkpoints', load: async () => (await import('./commands/rm.js')).rmCommand },
  wait: { summary: 'wait until a session ends; exit 0 if it succeeded', load: async () => (await import('./commands/wait.js')).waitCommand },
  metrics: { summary: "print a session's metrics (--last: the latest value of each)", load: async () => (await import('./commands/metrics.js')).metricsCommand },
  control: { summary: 'steer a running session: set, get, save, load, call, stop', load: async () => (await import('./commands/control.js')).controlCommand },
  exec: { summary: "run a command in a running session's environment (-t for a terminal)", load: async () => (await import('./commands/exec.js')).execCommand },
  attach: { summary: 'open an interactive shell in a running session', load: async () => (await import('./commands/attach.js')).attachCommand },
  queue: { summary: 'list the queue in scheduling order; `queue why SESSION` says why it waits', load: async () => (await import('./commands/queue.js')).queueCommand },
  dataset: { summary: 'push, list, pull, remove and share datasets', load: async () => (await import('./commands/dataset.js')).datasetCommand },
  model: { summary: "list a session's checkpoints, pull or remove them", load: async () => (await import('./commands/model.js')).modelCommand },
  share: { summary: 'share a session with another user (read, or --control)', load: async () => (await import('./commands/share.js')).shareCommand },
  login: { summary: 'log in to a coordinator with a token (kept in $NSML_HOME/credentials)', load: async () => (await import('./commands/login.js')).loginCommand },
  logout: { summary: "forget this machine's token for a coordinator", load: async () => (await import('./commands/login.js')).logoutCommand },
  whoami: { summary: 'who the coordinator takes you for', load: async () => (await import('./commands/login.js')).whoamiCommand },
  token: { summary: 'list, create and revoke your tokens', load: async () => (await import('./commands/token.js')).tokenCommand },
  user: { summary: 'add users and list them (admins)', load: async () => (await import('./commands/user.js')).userCommand },
  node: { summary: 'list nodes, drain one', load: async () => (await import('./commands/node.js')).nodeCommand },
  admin: { summary: 'cluster administration: gc (collect unreferenced blobs)', load: async () => (await import('./commands/admin.js')).adminCommand },
  up: { summary: 'start a coordinator and an agent on this machine', load: async () => (await import('./commands/up.js')).upCommand },
  down: { summary: 'stop what `nsml up` started', load: async () => (await import('./commands/up.js')).downCommand },
  status: { summary: 'tell whether `nsml up` is running', load: async () => (await import('./commands/up.js')).statusCommand },
  coordinator: { summary: 'run a coordinator in the foreground; install-service', load: async () => (await import('./commands/coordinator.js')).coordinatorCommand },
  agent: { summary: 'run a node agent in the foreground; install-service; gpus', load: async () => (await import('./commands/agent.js')).agentCommand },
  sim: { summary: 'replay a cluster trace through the scheduler', load: async () => (await import('./commands/external.js')).simCommand },
};

function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: nsml COMMAND [OPTIONS]

Commands:
${lines.join('\n')}

Run \`nsml COMMAND --help\` for a command's options.
Environment: NSML_COORDINATOR=HOST:PORT (else $NSML_HOME/config.json, else 127.0.0.1:7450),
NSML_TOKEN (else the token \`nsml login\` kept in $NSML_HOME/credentials), NSML_HOME (default ~/.nsml).
TLS: nsml --ca FILE COMMAND (or NSML_CA=FILE) verifies the coordinator with this CA, --tls
(NSML_TLS=1) with the default roots; NSML_TLS_CERT and NSML_TLS_KEY name a client
certificate (mutual TLS).
`;
}

/**
 * The `nsml` command: runs one command and resolves to the exit status (0 success, 1 failure,
 * 2 usage error). Ctrl-C aborts the running command; a second Ctrl-C exits at once.
 */
export async function runCli(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort(signal);
  };
  // `nsml ps | head`: a reader that goes away is not an error.
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  };
  process.stdout.on('error', onPipeError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let status = 1;
  try {
    status = await runCliWith(argv, processIo(controller.signal));
    return status;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (SERVER_COMMANDS.includes(argv[0] ?? '')) exitIfStuck(status);
  }
}

/** Commands that run services in this process until a signal. */
const SERVER_COMMANDS = ['coordinator', 'agent', 'up'];

/**
 * After a service closed gracefully, whatever still holds the event loop (a socket a peer
 * keeps open, a child's pipe) must not keep the process alive. The timer is unref'd: it only
 * fires if something else keeps the process running.
 */
function exitIfStuck(status: number): void {
  setTimeout(() => process.exit(status), 3_000).unref();
}

/** `runCli` with the surroundings given: tests run commands in-process with a captured io. */
export async function runCliWith(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.err(mainUsage());
      return 2;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      if (rest[0] && COMMANDS[rest[0]]) return runCommand(rest[0], ['--help'], io);
      io.out(mainUsage());
      return 0;
    }
    if (name === '--ca' || name === '--tls') return await runCliWith(...globalTls(argv, io));
    if (name === '--version' || name === '-V') {
      io.out(`nsml ${version()}\n`);
      return 0;
    }
    if (io.env.NSML_USER && name !== 'agent' && name !== 'coordinator') {
      io.err('nsml: note: NSML_USER is ignored: you act as whoever your token belongs to (`nsml whoami`)\n');
    }
    return await runCommand(name, rest, io);
  } catch (err) {
    return reportError(io, err);
  }
}

async function runCommand(name: string, argv: string[], io: CliIo): Promise<number> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw usageError(`unknown command ${JSON.stringify(name)}`);
  const command = await entry.load();
  return command.run(argv, io);
}

/** Prints `nsml: NSML_E_CODE: message`; exit status 2 for usage errors, 1 otherwise. */
export function reportError(io: CliIo, err: unknown): number {
  const error = isNsmlError(err) ? err : new NsmlError(ErrorCodes.INTERNAL, errorMessage(err), { cause: err });
  io.err(`nsml: ${error.code}: ${error.message}\n`);
  if (error.code === ErrorCodes.UNAUTHENTICATED && io.env.NSML_TOKEN) {
    io.err('nsml: note: the token came from NSML_TOKEN, which overrides `nsml login`; unset it or set it to a valid token\n');
  }
  if (io.env.NSML_DEBUG && err instanceof Error && err.stack) io.err(err.stack + '\n');
  return error.code === ErrorCodes.USAGE ? 2 : 1;
}

/** `--ca FILE` and `--tls` before the command: the same as NSML_CA=FILE and NSML_TLS=1. */
function globalTls(argv: string[], io: CliIo): [string[], CliIo] {
  if (argv[0] === '--tls') return [argv.slice(1), { ...io, env: { ...io.env, NSML_TLS: '1' } }];
  const file = argv[1];
  if (file === undefined || file.startsWith('-')) throw usageError('--ca needs a FILE: the PEM certificate of the CA that signed the coordinator\'s');
  return [argv.slice(2), { ...io, env: { ...io.env, NSML_CA: resolve(io.cwd, file) } }];
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

import { join, resolve } from 'node:path';
import { coordinatorAddress, nsmlHome } from '../../common/config.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { type ClientTlsOptions, clientTlsFromEnv } from '../../common/grpc/credentials.js';
import { type Command, printUsage } from '../command.js';
import { parseDuration } from '../duration.js';
import { parseSize } from '../size.js';
import { type FlagValues, parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { nsmlBin } from '../local/processes.js';
import { untilAborted } from '../local/signals.js';
import { writeUnit } from '../systemd-unit.js';
import { serviceTokenFile } from '../join-token.js';
import { USERS_FLAGS, USERS_USAGE, joinTokenOf, runAsOption, usersServiceArgs } from './agent-users.js';
import { runAgentGpus } from './external.js';

const USAGE = `Usage: nsml agent --coordinator HOST:PORT [--data DIR] [--name NODE] [--gpus 0,1]
                  [--advertise ADDR] [--join-token TOKEN] [--idle-window DUR] [--min-free SIZE]
                  [--ca FILE | --tls] [--tls-cert FILE --tls-key FILE]
                  [--join-token-file FILE] [--run-as FILE | --run-as-user NAME] [--isolation users|none]
                  [--python PYTHON] [--pythons P1,P2] [--env-cache-bytes SIZE] [--require-images]
                  [--container-runtime podman|docker|none]
       nsml agent install-service [--output DIR] [--user USER] [the options above]
       nsml agent gpus [--json]

Runs this node's agent in the foreground until SIGTERM or Ctrl-C. It dials the coordinator,
reports its GPUs and runs the sessions placed on it. Sessions keep running if the agent
stops; a restarted agent re-adopts them.

Options:
  --coordinator HOST:PORT   the coordinator (default: NSML_COORDINATOR, the config, 127.0.0.1:7450)
  --data DIR                the agent's state and caches (default $NSML_HOME/agent)
  --name NODE               this node's id (default: generated once, kept in DIR)
  --gpus 0,1                offer only these GPU indices ("none" for none; default all)
  --advertise ADDR          the address other ranks reach this node at (default: first IPv4)
  --join-token TOKEN        presented to the coordinator (default $NSML_JOIN_TOKEN)
  --idle-window DUR         a session whose GPUs stay at 0 % this long is shown idle
                            (nsml ps, nsml node ls); e.g. 30m (the default), 2h
  --min-free SIZE           below this much free space in DIR the node reports itself full
                            (NSML_E_DISK_FULL) and is given nothing new; default 100MiB
  --ca FILE                 dial the coordinator with TLS, verified with this CA (default
                            $NSML_CA; none: plaintext)
  --tls                     dial with TLS verified against the default roots ($NSML_TLS=1)
  --tls-cert FILE           the client certificate for a coordinator with --client-ca
  --tls-key FILE            its private key (default $NSML_TLS_CERT, $NSML_TLS_KEY)
  --python PYTHON           the default Python of sessions (default python3 on PATH)
  --pythons P1,P2           more Pythons sessions may ask for with nsml run --python X.Y
                            (python3.X on PATH are found without it)
  --env-cache-bytes SIZE    room for cached session environments (virtual environments built
                            from requirements.txt, setup.py, pyproject.toml); default 20GiB
  --require-images          fail a session whose setup.py names an image (#nsml: IMAGE) when
                            this node has no container runtime (default: warn, run on the node)
  --container-runtime RT    podman, docker (or a path to one), or none; default podman, else
                            docker whose daemon answers
${USERS_USAGE}
install-service writes nsml-agent.service (and nsml-agent.join-token, mode 600, that the unit
passes with --join-token-file):
  --output DIR              where to write them (default /etc/systemd/system)
  --user USER               run the agent as USER (default root, so it can run user code as
                            an unprivileged user)

gpus prints what the GPU probe sees on this machine.
`;

const RUN_FLAGS = {
  coordinator: { type: 'string' },
  data: { type: 'string' },
  name: { type: 'string' },
  gpus: { type: 'string' },
  advertise: { type: 'string' },
  'join-token': { type: 'string' },
  'idle-window': { type: 'string' },
  'min-free': { type: 'string' },
  ca: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  python: { type: 'string' },
  pythons: { type: 'string' },
  'env-cache-bytes': { type: 'string' },
  'require-images': { type: 'boolean' },
  'container-runtime': { type: 'string' },
  ...USERS_FLAGS,
} as const;

const SERVICE_FLAGS = { ...RUN_FLAGS, output: { type: 'string' }, user: { type: 'string' } } as const;

/** `--gpus 0,1` → [0, 1]; `none` → []; absent → undefined (all). */
export function parseGpuList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === 'none' || text.trim() === '') return [];
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,4}$/.test(p)) || new Set(parts).size !== parts.length) {
    throw new NsmlError(ErrorCodes.USAGE, `--gpus must list distinct GPU indices like 0,1,3 (or "none"); got ${JSON.stringify(text)}`);
  }
  return parts.map(Number);
}

export const agentCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    if (argv[0] === 'gpus') return runAgentGpus(argv.slice(1), io);
    if (argv[0] === 'install-service') return installService(argv.slice(1), io);
    const parsed = parseFlags(argv, RUN_FLAGS, 'agent');
    if (!parsed) return printUsage(io, USAGE);
    const { values } = parsed;
    const { startAgent } = await import('../../agent/main.js');
    const agent = await startAgent({
      coordinator: values.coordinator ?? coordinatorAddress(io.env),
      dataDir: values.data ?? join(nsmlHome(io.env), 'agent'),
      nodeId: values.name,
      gpus: parseGpuList(values.gpus),
      advertiseAddress: values.advertise,
      joinToken: joinTokenOf(values, io),
      runAs: runAsOption(values, io),
      idleWindowMs: values['idle-window'] === undefined ? undefined : parseDuration(values['idle-window'], '--idle-window'),
      minFreeBytes: values['min-free'] === undefined ? undefined : parseSize(values['min-free'], '--min-free'),
      tls: agentTls(values, io),
      python: values.python,
      pythons: values.pythons === undefined ? undefined : values.pythons.split(',').map((p) => p.trim()).filter(Boolean),
      envCacheBytes: values['env-cache-bytes'] === undefined ? undefined : parseSize(values['env-cache-bytes'], '--env-cache-bytes'),
      requireImages: values['require-images'],
      containerRuntime: values['container-runtime'],
    });
    io.err(`nsml agent running; Ctrl-C to stop (sessions keep running)\n`);
    const refused = await Promise.race([untilAborted(io.signal).then(() => undefined), agent.refusal]);
    io.err(refused ? 'nsml agent stopping: the coordinator refused it\n' : 'nsml agent closing\n');
    await agent.close();
    if (refused) throw refused;
    return 0;
  },
};

/** The TLS flags, each falling back to its environment variable; paths made absolute. */
function agentTls(values: FlagValues<typeof SERVICE_FLAGS>, io: CliIo): ClientTlsOptions {
  const env = clientTlsFromEnv(io.env);
  const path = (flag: string | undefined, fallback: string | undefined) => {
    const p = flag ?? fallback;
    return p ? resolve(io.cwd, p) : undefined;
  };
  return { ca: path(values.ca, env.ca), tls: values.tls ?? env.tls, cert: path(values['tls-cert'], env.cert), key: path(values['tls-key'], env.key) };
}

async function installService(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, SERVICE_FLAGS, 'agent');
  if (!parsed) return printUsage(io, USAGE);
  const { values } = parsed;
  const output = resolve(io.cwd, values.output ?? '/etc/systemd/system');
  const tokenFile = serviceTokenFile(values, io, output, 'agent');
  const written = writeUnit(output, 'nsml-agent', {
    description: 'nsml node agent',
    execStart: [process.execPath, nsmlBin(), 'agent', ...serviceArgs(values, io), ...(tokenFile ? ['--join-token-file', tokenFile] : [])],
    user: values.user,
    service: [
      ['Restart', 'always'],
      ['RestartSec', '2'],
      ['# Sessions run as children of the agent, each in its own process group. With the default', ''],
      ['# KillMode=control-group, stopping or restarting the agent (an upgrade, a crash) would kill', ''],
      ['# every training run on this node. KillMode=process signals only the agent; the sessions', ''],
      ['# keep running and the restarted agent re-adopts them and reports them to the coordinator.', ''],
      ['KillMode', 'process'],
      ['TimeoutStopSec', '30'],
      ['LimitNOFILE', '65536'],
    ],
  }, {});
  io.out(`wrote ${written.unitPath}\n`);
  if (tokenFile && !values['join-token-file']) io.out(`wrote ${tokenFile} (the join token; mode 600)\n`);
  io.out('enable it with: systemctl daemon-reload && systemctl enable --now nsml-agent\n');
  return 0;
}

function serviceArgs(values: FlagValues<typeof SERVICE_FLAGS>, io: CliIo): string[] {
  const args = ['--coordinator', values.coordinator ?? coordinatorAddress(io.env), '--data', resolve(values.data ?? '/var/lib/nsml/agent')];
  if (values.name !== undefined) args.push('--name', values.name);
  const gpus = parseGpuList(values.gpus);
  if (gpus !== undefined) args.push('--gpus', gpus.length === 0 ? 'none' : gpus.join(','));
  if (values.advertise !== undefined) args.push('--advertise', values.advertise);
  if (values['idle-window'] !== undefined) args.push('--idle-window', `${parseDuration(values['idle-window'], '--idle-window')}ms`);
  if (values['min-free'] !== undefined) args.push('--min-free', String(parseSize(values['min-free'], '--min-free')));
  for (const flag of ['python', 'pythons', 'env-cache-bytes', 'container-runtime'] as const) if (values[flag] !== undefined) args.push(`--${flag}`, values[flag]);
  if (values['require-images']) args.push('--require-images');
  args.push(...usersServiceArgs(values, io));
  const tls = agentTls(values, io);
  if (tls.ca) args.push('--ca', tls.ca);
  else if (tls.tls) args.push('--tls');
  if (tls.cert && tls.key) args.push('--tls-cert', tls.cert, '--tls-key', tls.key);
  return args;
}


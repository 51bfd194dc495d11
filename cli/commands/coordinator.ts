import { resolve, join } from 'node:path';
import { joinTokenOf, serviceTokenFile } from '../join-token.js';
import { DEFAULT_PORT, nsmlHome } from '../../common/config.js';
import { type Command, printUsage } from '../command.js';
import { parseDuration } from '../duration.js';
import type { ServerTlsOptions } from '../../common/grpc/credentials.js';
import { type FlagValues, intFlag, parseFlags, usageError } from '../flags.js';
import type { CliIo } from '../io.js';
import { nsmlBin } from '../local/processes.js';
import { untilAborted } from '../local/signals.js';
import { writeUnit } from '../systemd-unit.js';

const USAGE = `Usage: nsml coordinator [--host H] [--port P] [--http-port P [--http-host H]] [--data DIR]
                        [--heartbeat-timeout DURATION]
                        [--join-token-file FILE] [--policy NAME] [--gc-interval DURATION]
                        [--gc-grace DURATION] [--upload-lease DURATION] [--admins U1,U2]
                        [--tls-cert FILE --tls-key FILE [--client-ca FILE]]
       nsml coordinator install-service [--output DIR] [--user USER] [the options above]

Runs a coordinator in the foreground until SIGTERM or Ctrl-C, then closes it gracefully.

Options:
  --host H                    interface to listen on (default 127.0.0.1; 0.0.0.0 for a cluster)
  --port P                    port (default ${DEFAULT_PORT}; 0 picks a free one)
  --http-port P               also serve HTTP on this port: GET /metrics (Prometheus text) and
                              GET /healthz (default: no HTTP server; 0 picks a free one).
                              /metrics carries no token: keep it on a trusted network
  --http-host H               interface of the HTTP server (default 127.0.0.1)
  --data DIR                  state and blobs (default $NSML_HOME/coordinator)
  --heartbeat-timeout DUR     a node silent this long is down, e.g. 15s (default 15s)
  --join-token-file FILE      agents must present the token in FILE (mode 600); --join-token TOKEN
                              and $NSML_JOIN_TOKEN work too but are visible in /proc (default: none)
  --policy NAME               scheduling policy: default (priorities, fair share, least attained
                              service, backfill for a starving head, preemption), backfill,
                              first-fit or fifo (default: default)
  --gc-interval DUR           collect unreferenced blobs this often (default 6h; 0 turns it off;
                              \`nsml admin gc\` collects now)
  --gc-grace DUR              never collect a blob younger than this (default 1h)
  --upload-lease DUR          a blob an upload asked about stays held this long unless a manifest
                              over it is registered sooner (default 6h)
  --admins U1,U2              admin users, made so at every start (default: the OS user running
                              it); the first one's token is kept in DATA/admin-token (mode 600):
                              \`nsml login --token-file DATA/admin-token\`
  --tls-cert FILE             serve TLS with this PEM certificate (chain); its subjectAltName
                              must cover the address clients dial (default: plaintext)
  --tls-key FILE              the certificate's PEM private key
  --client-ca FILE            mutual TLS: every client (agents, the CLI) must present a
                              certificate signed by this CA

install-service writes nsml-coordinator.service (and nsml-coordinator.join-token, mode 600, when
a token is given) for systemd:
  --output DIR                where to write them (default /etc/systemd/system)
  --user USER                 run the coordinator as USER
Service defaults: --host 0.0.0.0 --data /var/lib/nsml/coordinator.
`;

const RUN_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  'http-host': { type: 'string' },
  data: { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'join-token': { type: 'string' },
  'join-token-file': { type: 'string' },
  policy: { type: 'string' },
  'gc-interval': { type: 'string' },
  'gc-grace': { type: 'string' },
  'upload-lease': { type: 'string' },
  admins: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'client-ca': { type: 'string' },
} as const;

const SERVICE_FLAGS = { ...RUN_FLAGS, output: { type: 'string' }, user: { type: 'string' } } as const;

export const coordinatorCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    if (argv[0] === 'install-service') return installService(argv.slice(1), io);
    const parsed = parseFlags(argv, RUN_FLAGS, 'coordinator');
    if (!parsed) return printUsage(io, USAGE);
    const { values } = parsed;
    const { startCoordinator } = await import('../../coordinator/main.js');
    const coordinator = await startCoordinator({
      dataDir: values.data ?? join(nsmlHome(io.env), 'coordinator'),
      host: values.host,
      port: intFlag(values.port, '--port', DEFAULT_PORT, 0, 65535),
      httpPort: values['http-port'] === undefined ? undefined : intFlag(values['http-port'], '--http-port', 0, 0, 65535),
      httpHost: values['http-host'],
      heartbeatTimeoutMs: values['heartbeat-timeout'] === undefined ? undefined : parseDuration(values['heartbeat-timeout'], '--heartbeat-timeout'),
      joinToken: joinTokenOf(values, io, 'coordinator'),
      policy: values.policy,
      gcIntervalMs: optionalDuration(values['gc-interval'], '--gc-interval'),
      gcGraceMs: optionalDuration(values['gc-grace'], '--gc-grace'),
      uploadLeaseMs: optionalDuration(values['upload-lease'], '--upload-lease'),
      admins: values.admins === undefined ? undefined : values.admins.split(',').map((u) => u.trim()).filter((u) => u.length > 0),
      tls: tlsFlags(values),
    });
    const tls = values['client-ca'] ? ' with TLS (client certificates required)' : values['tls-cert'] ? ' with TLS' : '';
    io.err(`nsml coordinator listening on ${coordinator.address}${tls}; Ctrl-C to stop\n`);
    if (coordinator.httpPort !== undefined) io.err(`metrics: ${httpUrl(values['http-host'] ?? '127.0.0.1', coordinator.httpPort)}/metrics\n`);
    await untilAborted(io.signal);
    io.err('nsml coordinator closing\n');
    await coordinator.close();
    return 0;
  },
};

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `--tls-cert`, `--tls-key`, `--client-ca` as TLS options (checked at start); undefined when none is given. */
function tlsFlags(values: FlagValues<typeof RUN_FLAGS>): ServerTlsOptions | undefined {
  const [cert, key, clientCa] = [values['tls-cert'], values['tls-key'], values['client-ca']];
  if (cert === undefined && key === undefined && clientCa === undefined) return undefined;
  if (cert === undefined || key === undefined) throw usageError('--tls-cert and --tls-key go together (and --client-ca needs both)', 'coordinator');
  return { cert: resolve(cert), key: resolve(key), ...(clientCa === undefined ? {} : { clientCa: resolve(clientCa) }) };
}

/** A duration flag, where a bare \`0\` means zero (\`--gc-interval 0\`: off). */
function optionalDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  return text.trim() === '0' ? 0 : parseDuration(text, flag);
}

async function installService(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, SERVICE_FLAGS, 'coordinator');
  if (!parsed) return printUsage(io, USAGE);
  const { values } = parsed;
  const output = values.output ?? '/etc/systemd/system';
  const tokenFile = serviceTokenFile(values, io, output, 'coordinator');
  const written = writeUnit(output, 'nsml-coordinator', {
    description: 'nsml coordinator',
    execStart: [process.execPath, nsmlBin(), 'coordinator', ...serviceArgs(values), ...(tokenFile ? ['--join-token-file', tokenFile] : [])],
    user: values.user,
    service: [
      ['Restart', 'on-failure'],
      ['RestartSec', '2'],
      ['TimeoutStopSec', '30'],
      ['LimitNOFILE', '65536'],
    ],
  }, {});
  io.out(`wrote ${written.unitPath}\n`);
  if (tokenFile) io.out(`the join token is read from ${tokenFile} (mode 600)\n`);
  else io.err('warning: no --join-token: any machine that reaches the port can join as a node\n');
  io.out('enable it with: systemctl daemon-reload && systemctl enable --now nsml-coordinator\n');
  return 0;
}

function serviceArgs(values: FlagValues<typeof SERVICE_FLAGS>): string[] {
  const args = ['--host', values.host ?? '0.0.0.0', '--port', String(intFlag(values.port, '--port', DEFAULT_PORT, 1, 65535))];
  args.push('--data', resolve(values.data ?? '/var/lib/nsml/coordinator'));
  if (values['heartbeat-timeout'] !== undefined) {
    parseDuration(values['heartbeat-timeout'], '--heartbeat-timeout');
    args.push('--heartbeat-timeout', values['heartbeat-timeout']);
  }
  if (values.policy !== undefined) args.push('--policy', values.policy);
  if (values['http-port'] !== undefined) args.push('--http-port', String(intFlag(values['http-port'], '--http-port', 0, 1, 65535)));
  if (values['http-host'] !== undefined) args.push('--http-host', values['http-host']);
  const tls = tlsFlags(values);
  if (tls) args.push('--tls-cert', tls.cert, '--tls-key', tls.key, ...(tls.clientCa ? ['--client-ca', tls.clientCa] : []));
  return args;
}

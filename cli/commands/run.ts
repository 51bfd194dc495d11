import { join } from 'node:path';
import { nsmlHome } from '../../common/config.js';
import { formatDatasetRef, parseDatasetList } from '../../common/dataset-ref.js';
import { validateCheckpointName } from '../../common/names.js';
import type { Session__Output, SubmitRequest } from '../../common/proto/types.js';
import type { CoordinatorClient } from '../client.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseDuration } from '../duration.js';
import { type FlagValues, intFlag, parseFlags, usageError } from '../flags.js';
import { formatBytes, formatCount, plural } from '../format.js';
import { parseMemoryMib } from '../memory-size.js';
import { checkImage, checkPythonVersion } from '../../common/session-runtime.js';
import { type CliIo, printJson } from '../io.js';
import { followLogs } from '../log-follow.js';
import { printLogLine } from '../log-print.js';
import { waitForEnd } from '../session-wait.js';
import { describeOutcome } from '../session-view.js';
import { resolveSession } from '../session-ref.js';
import { splitArgs } from '../split-args.js';
import { runInteractive } from '../terminal/run-interactive.js';
import { describeRetry, newRequestId, withSubmitRetry } from '../submit-retry.js';
import { createBlobUploader } from '../workspace/blob-uploader.js';
import { checkEntry, packWorkspace } from '../workspace/pack.js';
import { sizeNotes } from '../workspace/size-notes.js';
import { type UploadReport, uploadWorkspace } from '../workspace/upload.js';

const USAGE = `Usage: nsml run [-d DATASET] [-g GPUS] [--gpus-per-node N] [--cpus N] [--memory SIZE]
                [-e ENTRY] [-a "ARGS"] [-m MEMO] [--priority P] [--time DURATION] [--detach] [--json]
                [--session PARENT [--pause 1] [--iteration CHECKPOINT]]

Packs this directory (honouring .gitignore and .nsmlignore), uploads what the coordinator
lacks, submits a session running ENTRY, prints its name, then prints its logs until it ends.
Exit status 0 only when the session succeeded. When the coordinator cannot be reached or does
not answer, the upload and submission are retried for up to 30 s with the same request id, so
a retry never creates a second session.

Options:
  -d, --dataset NAME[@V][,NAME2...]
                          mount these datasets read-only (the latest version unless @V);
                          the session is USER/NAME/N after the first (else USER/scratch/N)
  -g, --gpus N            GPUs in total (default 0: CPU only)
  --gpus-per-node N       GPUs per node when spanning nodes (default: the scheduler decides)
  -c, --cpus N            CPUs per process (default 1)
  --memory SIZE           memory per process, e.g. 512M, 16G (default: none reserved)
  --python X.Y            the Python to run with, e.g. 3.11 (nsml node ls shows what each node
                          offers; default the node's python3). requirements.txt, setup.py's
                          install_requires and pyproject.toml are installed into a cached
                          virtual environment on the node
  --image IMAGE           run in this container image (nodes with podman or docker only)
  --shm-size SIZE         /dev/shm of the container, e.g. 8G (default: the runtime's)
  -e, --entry FILE        the script to run (default main.py)
  -a, --args "ARGS"       its arguments, split like a shell would: -a "--lr 0.1 --epochs 5"
  -m, --memo TEXT         a note shown by nsml ps
  --priority P            higher runs first (default 0)
  --time DURATION         run time limit, e.g. 2h: stopped (like nsml stop) once it has run
                          that long; also helps the scheduler backfill
  --session PARENT        continue from a checkpoint of session PARENT (a fork of it running
                          this directory's code): the entry gets --pause 1 --iteration CHECKPOINT
                          and nsml.paused() loads it; ps shows TYPE fork and the parent;
                          without -d it mounts the parent's dataset versions
  --iteration CHECKPOINT  with --session: the checkpoint to load (default: its newest)
  --pause 1               with --session: accepted as NSML wrote it (it is always set)
  -i, --interactive       once it runs, open a shell in it (like nsml attach); exit leaves it running
  --detach                return right after submitting
  --json                  print one JSON object {name, state, uploadedBytes, ...};
                          without --detach, log lines go to stderr and the object comes at the end
`;

const FLAGS = {
  dataset: { type: 'string', short: 'd' },
  gpus: { type: 'string', short: 'g' },
  'gpus-per-node': { type: 'string' },
  cpus: { type: 'string', short: 'c' },
  memory: { type: 'string' },
  python: { type: 'string' },
  image: { type: 'string' },
  'shm-size': { type: 'string' },
  entry: { type: 'string', short: 'e' },
  args: { type: 'string', short: 'a' },
  memo: { type: 'string', short: 'm' },
  priority: { type: 'string' },
  time: { type: 'string' },
  session: { type: 'string' },
  iteration: { type: 'string' },
  pause: { type: 'string' },
  interactive: { type: 'boolean', short: 'i' },
  detach: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `--python`, `--image`, `--shm-size`: the environment fields of the request (agent/env); fork and resume use them too. */
export function environmentOf(values: { python?: string; image?: string; 'shm-size'?: string }): Pick<SubmitRequest, 'python' | 'image' | 'shmSizeMib'> {
  return {
    python: checkPythonVersion(values.python ?? ''),
    image: checkImage(values.image ?? ''),
    shmSizeMib: values['shm-size'] === undefined ? 0 : parseMemoryMib(values['shm-size']),
  };
}

/** The SubmitRequest a command line asks for (workspace filled in later). */
export function submitRequestOf(values: FlagValues<typeof FLAGS>): SubmitRequest {
  const timeMs = values.time === undefined ? 0 : parseDuration(values.time, '--time');
  const datasets = values.dataset === undefined ? [] : parseDatasetList(values.dataset);
  return {
    dataset: datasets[0]?.name ?? '',
    datasets: datasets.map(formatDatasetRef),
    gpus: intFlag(values.gpus, '--gpus', 0, 0, 4096),
    gpusPerNode: intFlag(values['gpus-per-node'], '--gpus-per-node', 0, 0, 1024),
    cpus: intFlag(values.cpus, '--cpus', 0, 1, 4096),
    memoryMib: values.memory === undefined ? 0 : parseMemoryMib(values.memory),
    ...environmentOf(values),
    entry: values.entry ?? 'main.py',
    args: values.args === undefined ? [] : splitArgs(values.args),
    memo: values.memo ?? '',
    priority: intFlag(values.priority, '--priority', 0, -1_000_000, 1_000_000),
    timeLimitS: Math.ceil(timeMs / 1000),
    ...parentOf(values),
  };
}

/** `--session PARENT [--pause 1] [--iteration C]`: the fork fields of the request. */
function parentOf(values: FlagValues<typeof FLAGS>): Pick<SubmitRequest, 'parent' | 'kind' | 'checkpoint'> {
  if (values.session === undefined) {
    if (values.pause !== undefined || values.iteration !== undefined) {
      throw usageError('--pause and --iteration need --session PARENT: the session whose checkpoint to continue from', 'run');
    }
    return {};
  }
  if (values.pause !== undefined && values.pause !== '1') throw usageError(`--pause must be 1 (continue from a checkpoint); got ${JSON.stringify(values.pause)}`, 'run');
  if (values.iteration !== undefined) validateCheckpointName(values.iteration);
  return { parent: values.session, kind: 'fork', checkpoint: values.iteration ?? '' };
}

export const runCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'run');
    if (!parsed) return printUsage(io, USAGE);
    const { values } = parsed;
    const request = submitRequestOf(values);
    if (request.parent) request.parent = await withClient(io, (c) => resolveSession(request.parent!, c, io.signal));
    const packed = await packWorkspace({ root: io.cwd, cacheDir: join(nsmlHome(io.env), 'cache', 'hashes') });
    checkEntry(packed, request.entry!);
    for (const note of sizeNotes(packed)) io.err(`${note}\n`);
    const requestId = newRequestId();
    // A fresh client per attempt: a new channel dials at once, not after the old one's backoff.
    const { session, upload } = await withSubmitRetry(() => withClient(io, async (client) => {
      const upload = await uploadWorkspace(packed, createBlobUploader(client));
      io.err(`uploaded ${plural(upload.uploadedFiles, 'file')}, ${formatBytes(upload.uploadedBytes)} (${formatCount(upload.unchangedFiles)} unchanged)\n`);
      return { session: await client.submit({ ...request, workspace: upload.workspace, requestId }, io.signal), upload };
    }), { requestId, signal: io.signal, onRetry: (err, n, delayMs) => io.err(describeRetry(err, n, delayMs, requestId)) });
    if (values.interactive) return withClient(io, (client) => runInteractive(io, client, session.name));
    if (values.detach) return printSubmitted(io, session, upload, values.json ?? false);
    return withClient(io, async (client) => {
      if (!values.json) io.out(`${session.name}\n`);
      return follow(io, client, session, upload, values.json ?? false);
    });
  },
};

export function printSubmitted(io: CliIo, session: Session__Output, upload: UploadReport, json: boolean): number {
  if (json) printJson(io, resultJson(session, upload));
  else {
    io.out(`${session.name}\n`);
    if (session.reason) io.err(`${session.state}: ${session.reason}\n`);
  }
  return 0;
}

/** Prints the logs until the session ends; exit status 0 only when it succeeded. */
export async function follow(io: CliIo, client: CoordinatorClient, submitted: Session__Output, upload: UploadReport, json: boolean): Promise<number> {
  const multiNode = submitted.gpusPerNode > 0 && submitted.gpus > submitted.gpusPerNode;
  const result = await followLogs(client, {
    name: submitted.name,
    follow: true,
    signal: io.signal,
    onLine: (line) => printLogLine(io, line, { prefixRank: multiNode, allToStderr: json }),
  });
  if (result.aborted) {
    io.err(`\n${submitted.name} keeps running: \`nsml logs -f ${submitted.name}\` to follow, \`nsml stop ${submitted.name}\` to stop\n`);
    return 130;
  }
  const final = (await waitForEnd(client, submitted.name, { signal: io.signal })) ?? submitted;
  if (json) printJson(io, resultJson(final, upload));
  else io.err(describeOutcome(final, Date.now()) + '\n');
  return final.state === 'succeeded' ? 0 : 1;
}

function resultJson(session: Session__Output, upload: UploadReport): Record<string, unknown> {
  return {
    name: session.name,
    state: session.state,
    reason: session.reason,
    exitCode: session.exitCode ?? null,
    uploadedFiles: upload.uploadedFiles,
    uploadedBytes: upload.uploadedBytes,
    unchangedFiles: upload.unchangedFiles,
    workspace: upload.workspace,
    session,
  };
}

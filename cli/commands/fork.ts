import { validateCheckpointName } from '../../common/names.js';
import type { Session__Output, SubmitRequest } from '../../common/proto/types.js';
import { withoutPauseArgs } from '../../common/reserved-args.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseDuration } from '../duration.js';
import { type FlagValues, intFlag, parseFlags } from '../flags.js';
import { parseMemoryMib } from '../memory-size.js';
import { resolveSession } from '../session-ref.js';
import { splitArgs } from '../split-args.js';
import { describeRetry, newRequestId, withSubmitRetry } from '../submit-retry.js';
import type { UploadReport } from '../workspace/upload.js';
import { environmentOf, follow, printSubmitted } from './run.js';

const COMMON = `  -g, --gpus N            GPUs in total (default: the parent's)
  --gpus-per-node N       GPUs per node when spanning nodes (default: the parent's)
  --cpus N                CPUs per process (default: the parent's)
  --memory SIZE           memory per process, e.g. 16G (default: the parent's)
  -m, --memo TEXT         a note shown by nsml ps (default: "fork of PARENT" / "resume of PARENT")
  --priority P            higher runs first (default 0)
  --time DURATION         run time limit, e.g. 2h (default: the parent's)
  --python X.Y            the Python to run with (default: the parent's)
  --image IMAGE           the container image (default: the parent's)
  --shm-size SIZE         /dev/shm of the container (default: the parent's)
  --detach                return right after submitting
  --json                  print one JSON object {name, state, ...}
`;

const FORK_USAGE = `Usage: nsml fork SESSION [-c CHECKPOINT] [-a "ARGS"] [-g GPUS] [--gpus-per-node N] [--cpus N]
                 [--memory SIZE] [-m MEMO] [--priority P] [--time DURATION] [--python X.Y] [--image IMAGE]
                 [--detach] [--json]

Relaunches SESSION's code (the same workspace, entry, dataset versions and arguments) as a new
session that continues from one of its checkpoints: the entry gets \`--pause 1 --iteration
CHECKPOINT\` and the script's \`nsml.paused(scope=locals())\` loads that checkpoint of SESSION
through its bound load, then training goes on. \`nsml ps\` shows the new session as TYPE fork with
its PARENT. A checkpoint that does not exist is refused, naming those that do. SESSION is
USER/DATASET/N (yours or shared with you), or DATASET/N for your own. Prints logs until it ends
(exit 0 only when it succeeded), as \`nsml run\` does.

Options:
  -c, --checkpoint NAME   the checkpoint to continue from (default: the newest)
  -a, --args "ARGS"       the script's arguments instead of the parent's
${COMMON}`;

const RESUME_USAGE = `Usage: nsml resume SESSION [-g GPUS] [--gpus-per-node N] [--cpus N] [--memory SIZE] [-m MEMO]
                   [--priority P] [--time DURATION] [--detach] [--json]

Continues SESSION from its newest checkpoint in a new session, with the same code, datasets and
arguments: \`nsml fork SESSION\` from the newest checkpoint, recorded as TYPE resume.

Options:
${COMMON}`;

const RESUME_FLAGS = {
  gpus: { type: 'string', short: 'g' },
  'gpus-per-node': { type: 'string' },
  cpus: { type: 'string' },
  memory: { type: 'string' },
  memo: { type: 'string', short: 'm' },
  priority: { type: 'string' },
  time: { type: 'string' },
  python: { type: 'string' },
  image: { type: 'string' },
  'shm-size': { type: 'string' },
  detach: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const FORK_FLAGS = {
  ...RESUME_FLAGS,
  checkpoint: { type: 'string', short: 'c' },
  args: { type: 'string', short: 'a' },
} as const;

type ForkValues = FlagValues<typeof FORK_FLAGS>;

/** The Submit of a fork (or resume) of `parent`: its code and datasets, the flags given over its settings. */
export function forkRequestOf(parent: Session__Output, values: ForkValues, kind: 'fork' | 'resume'): SubmitRequest {
  if (values.checkpoint !== undefined) validateCheckpointName(values.checkpoint);
  return {
    dataset: parent.dataset,
    datasets: parent.datasets,
    gpus: intFlag(values.gpus, '--gpus', parent.gpus, 0, 4096),
    gpusPerNode: intFlag(values['gpus-per-node'], '--gpus-per-node', parent.gpusPerNode, 0, 1024),
    cpus: intFlag(values.cpus, '--cpus', parent.cpus, 1, 4096),
    memoryMib: values.memory === undefined ? parent.memoryMib : parseMemoryMib(values.memory),
    entry: parent.entry,
    args: values.args === undefined ? withoutPauseArgs(parent.args) : splitArgs(values.args),
    memo: values.memo ?? `${kind} of ${parent.name}`,
    workspace: parent.workspace,
    priority: intFlag(values.priority, '--priority', 0, -1_000_000, 1_000_000),
    timeLimitS: values.time === undefined ? Number(parent.timeLimitS) : Math.ceil(parseDuration(values.time, '--time') / 1000),
    parent: parent.name,
    kind,
    checkpoint: values.checkpoint ?? '',
    // Empty: the coordinator keeps the parent's (coordinator/sessions/fork-request.ts).
    ...environmentOf(values),
  };
}

/** No upload happens: the fork runs the workspace the parent already stored. */
const NOTHING_UPLOADED: Omit<UploadReport, 'workspace'> = { uploadedFiles: 0, uploadedBytes: 0, unchangedFiles: 0 };

function forkCommand(kind: 'fork' | 'resume', usage: string, flags: typeof FORK_FLAGS | typeof RESUME_FLAGS): Command {
  return {
    usage,
    async run(argv, io) {
      const parsed = parseFlags(argv, flags, kind, { min: 1, max: 1 });
      if (!parsed) return printUsage(io, usage);
      const values = parsed.values as ForkValues;
      const requestId = newRequestId();
      const parent = await withClient(io, async (client) => client.getSession(await resolveSession(parsed.positionals[0]!, client, io.signal), io.signal));
      const request = { ...forkRequestOf(parent, values, kind), requestId };
      const session = await withSubmitRetry(() => withClient(io, (client) => client.submit(request, io.signal)), {
        requestId, signal: io.signal, onRetry: (err, n, delayMs) => io.err(describeRetry(err, n, delayMs, requestId)),
      });
      const upload: UploadReport = { ...NOTHING_UPLOADED, workspace: parent.workspace };
      if (values.detach) return printSubmitted(io, session, upload, values.json ?? false);
      return withClient(io, async (client) => {
        if (!values.json) io.out(`${session.name}\n`);
        io.err(`${session.name}: ${kind} of ${parent.name} from checkpoint ${session.checkpoint}\n`);
        return follow(io, client, session, upload, values.json ?? false);
      });
    },
  };
}

export const forkSessionCommand = forkCommand('fork', FORK_USAGE, FORK_FLAGS);
export const resumeSessionCommand = forkCommand('resume', RESUME_USAGE, RESUME_FLAGS);

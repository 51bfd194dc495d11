import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import { policies } from '../../coordinator/scheduler/index.js';
import { formatSimReport } from '../../sim/report.js';
import { simulate } from '../../sim/simulator.js';
import { readTrace } from '../../sim/trace.js';
import { parseDuration } from '../duration.js';
import type { CliIo } from '../io.js';

/** Where the command writes; the process's streams unless the CLI or a test passes its own. */
export type SimIo = Pick<CliIo, 'out' | 'err'>;

const defaultIo: SimIo = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

export const SIM_USAGE = `usage: nsml sim --trace FILE.csv --nodes N --gpus-per-node G [options]

Replays a job trace (job_id, submission_time, duration, num_gpu) through the scheduler in
simulated time and prints JCT, queueing delay, utilization and preemptions.

  --submit-scale S          multiply submit times by S (2 halves the load); default 1
  --policy NAME             ${Object.keys(policies).join(' | ')}; default default
  --checkpoint-interval D   jobs checkpoint every D of run time; preemption loses the work since; default 30m
  --restart-delay D         a resumed job makes no progress for D; default 2m
  --grace D                 a preempted job holds its GPUs for D while it saves; default 1m
  --half-life D             fair-share usage half-life; default 7d
  --jobs N                  replay only the first N jobs (by submit time)
  --json                    print one JSON object
`;

/** `nsml sim`: parses its own flags; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export async function simCommand(argv: string[], io: SimIo = defaultIo): Promise<number> {
  let flags: ReturnType<typeof parse>;
  try {
    flags = parse(argv);
  } catch (err) {
    io.err(`nsml sim: ${errorMessage(err)}\n\n${SIM_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.out(SIM_USAGE);
    return 0;
  }
  try {
    const options = toOptions(flags);
    let trace = readTrace(options.trace);
    if (options.jobs !== undefined) trace = [...trace].sort((a, b) => a.submissionS - b.submissionS).slice(0, options.jobs);
    const run = simulate(trace, options);
    io.out(flags.json ? `${JSON.stringify(run.result)}\n` : formatSimReport(run, { ...options, trace: basename(options.trace) }));
    return 0;
  } catch (err) {
    io.err(`nsml sim: ${errorMessage(err)}\n`);
    const usage = [ErrorCodes.USAGE, ErrorCodes.INVALID_ARGUMENT, ErrorCodes.NOT_FOUND].some((code) => isNsmlError(err, code));
    return usage ? 2 : 1;
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      trace: { type: 'string' },
      nodes: { type: 'string' },
      'gpus-per-node': { type: 'string' },
      'submit-scale': { type: 'string' },
      policy: { type: 'string' },
      'checkpoint-interval': { type: 'string' },
      'restart-delay': { type: 'string' },
      grace: { type: 'string' },
      'half-life': { type: 'string' },
      jobs: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  return values;
}

function toOptions(f: ReturnType<typeof parse>) {
  if (!f.trace) throw usage('--trace FILE.csv is required');
  if (!f.nodes || !f['gpus-per-node']) throw usage('--nodes and --gpus-per-node are required');
  const policy = f.policy ?? 'default';
  if (!policies[policy]) throw usage(`unknown --policy "${policy}"; expected one of ${Object.keys(policies).join(', ')}`);
  return {
    trace: f.trace,
    nodes: wholeNumber(f.nodes, '--nodes'),
    gpusPerNode: wholeNumber(f['gpus-per-node'], '--gpus-per-node'),
    submitScale: positive(f['submit-scale'] ?? '1', '--submit-scale'),
    policy,
    checkpointIntervalMs: parseDuration(f['checkpoint-interval'] ?? '30m', '--checkpoint-interval'),
    restartDelayMs: parseDuration(f['restart-delay'] ?? '2m', '--restart-delay'),
    graceMs: parseDuration(f.grace ?? '1m', '--grace'),
    halfLifeMs: parseDuration(f['half-life'] ?? '7d', '--half-life'),
    ...(f.jobs !== undefined && { jobs: wholeNumber(f.jobs, '--jobs') }),
  };
}

function wholeNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw usage(`${flag}: expected a whole number > 0; got "${text}"`);
  return n;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw usage(`${flag}: expected a number > 0; got "${text}"`);
  return n;
}

function usage(message: string): NsmlError {
  return new NsmlError(ErrorCodes.USAGE, message);
}

import { validateCheckpointName } from '../../common/names.js';
import type { Checkpoint__Output } from '../../common/proto/types.js';
import { withCheckpoints } from '../checkpoint-client.js';
import { type Command, printUsage } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { formatAgo, formatBytes, formatCount, formatTable, plural, truncate } from '../format.js';
import { type CliIo, printJson } from '../io.js';
import { resolveSession } from '../session-ref.js';
import { downloadTree, fetchManifest } from './dataset-files.js';
import { createProgress } from './dataset-progress.js';

const USAGE = `Usage: nsml model ls SESSION [--json]
       nsml model pull SESSION CHECKPOINT DIR [--json]
       nsml model rm SESSION CHECKPOINT... [--json]

The checkpoints a session saved (\`nsml.save\` in the script, or files a framework wrote into
NSML_CHECKPOINT_DIR), named SESSION/CHECKPOINT.

  ls      lists a session's checkpoints, newest first: name, when saved, size, files, and the
          summary metrics reported (summary=True) when it was saved
  pull    downloads one checkpoint into DIR, which must be new or empty; the files appear all
          at once, never half-written
  rm      removes checkpoints (the session's owner, or a user it is shared with --control);
          all or none: a name that does not exist removes nothing. The stored bytes go at
          the next blob collection (\`nsml admin gc\`) once nothing else refers to them

SESSION is USER/DATASET/N, or DATASET/N for one of your own sessions.
`;

const FLAGS = { json: { type: 'boolean' } } as const;

/** One checkpoint as `nsml model ls --json` prints it (NaN summary values print as null). */
export function checkpointJson(c: Checkpoint__Output) {
  return {
    session: c.session, name: c.name, time: new Date(c.createdMs).toISOString(), createdMs: c.createdMs,
    size: c.bytes, files: c.files, summary: c.summary, source: c.source, epoch: c.epoch, manifest: c.manifest,
  };
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** `val/acc=0.91 loss=0.231`, keys sorted. */
export function formatSummary(summary: Record<string, number>): string {
  return Object.keys(summary).sort().map((k) => `${k}=${formatValue(summary[k]!)}`).join(' ');
}

function table(list: Checkpoint__Output[], now: number): string {
  return formatTable(
    ['NAME', 'SAVED', 'SIZE', 'FILES', 'SUMMARY'],
    list.map((c) => [truncate(c.name, 40), formatAgo(c.createdMs, now), formatBytes(c.bytes), formatCount(c.files), truncate(formatSummary(c.summary), 80)]),
  );
}

async function ls(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'model', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, USAGE);
  return withCheckpoints(io, async (client, checkpoints) => {
    const session = await resolveSession(parsed.positionals[0]!, client, io.signal);
    const list = await checkpoints.list(session, io.signal);
    if (parsed.values.json) printJson(io, list.map(checkpointJson));
    else if (list.length === 0) io.err(`${session} has no checkpoints yet; a script saves one with nsml.save(NAME)\n`);
    else io.out(table(list, Date.now()));
    return 0;
  });
}

async function pull(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'model', { min: 3, max: 3 });
  if (!parsed) return printUsage(io, USAGE);
  const [sessionText, nameText, dest] = parsed.positionals as [string, string, string];
  const name = validateCheckpointName(nameText);
  const started = Date.now();
  const c = await withCheckpoints(io, async (client, checkpoints) => {
    const session = await resolveSession(sessionText, client, io.signal);
    const found = await checkpoints.get(session, name, io.signal);
    const manifest = await fetchManifest(client, found.manifest);
    const progress = createProgress(io, { label: `pulling ${session}/${name}`, totalBytes: found.bytes, totalFiles: found.files });
    try {
      await downloadTree(client, manifest, dest, { progress, signal: io.signal });
    } finally {
      progress.done();
    }
    return found;
  });
  if (parsed.values.json) printJson(io, { ...checkpointJson(c), dir: dest });
  else io.err(`pulled ${c.session}/${c.name} into ${dest}: ${plural(c.files, 'file')}, ${formatBytes(c.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

async function rm(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'model', { min: 2, max: 10_000 });
  if (!parsed) return printUsage(io, USAGE);
  const [sessionText, ...names] = parsed.positionals as [string, ...string[]];
  for (const name of names) validateCheckpointName(name);
  const { session, removed } = await withCheckpoints(io, async (client, checkpoints) => {
    const session = await resolveSession(sessionText, client, io.signal);
    return { session, removed: await checkpoints.remove(session, names, io.signal) };
  });
  if (parsed.values.json) printJson(io, { session, removed });
  else io.err(`removed ${plural(removed.length, 'checkpoint')} of ${session}: ${removed.join(', ')}\n`);
  return 0;
}

export const modelCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') return printUsage(io, USAGE);
    if (sub === 'ls') return ls(rest, io);
    if (sub === 'pull') return pull(rest, io);
    if (sub === 'rm') return rm(rest, io);
    throw usageError(`unknown subcommand ${JSON.stringify(sub)} (expected ls, pull or rm)`, 'model');
  },
};

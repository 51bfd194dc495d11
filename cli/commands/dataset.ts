import { parseDatasetRef } from '../../common/dataset-ref.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { formatBytes, plural } from '../format.js';
import { type CliIo, printJson } from '../io.js';
import { removeCommand, shareCommand } from './dataset-admin.js';
import { withDatasets } from './dataset-client.js';
import { downloadTree, fetchManifest } from './dataset-files.js';
import { fsCommand, lsCommand } from './dataset-list.js';
import { createProgress } from './dataset-progress.js';
import { describePush, pushDataset } from './dataset-push.js';

const USAGE = `Usage: nsml dataset push NAME DIR [-m DESCRIPTION] [--private | --public] [--share USER,...] [--json]
       nsml dataset ls [NAME] [--json]
       nsml dataset fs NAME[@V] [--json]
       nsml dataset pull NAME[@V] DIR [--json]
       nsml dataset rm NAME[@V] [--json]
       nsml dataset share NAME USER[,USER...] [--revoke] [--private | --public] [--json]

Datasets are pushed once and mounted read-only by any number of sessions (\`nsml run -d NAME\`).

  push    makes every file of DIR the next version NAME@V; files the coordinator already has
          are not sent again, and an interrupted push resumes when run again. The version is
          visible only once complete. A new dataset is public unless --private; only its
          owner pushes new versions. Prints NAME@V.
  ls      lists the datasets you may read: latest version, size, files, owner, description;
          with NAME, every version of it
  fs      lists the files of a version (default: the latest)
  pull    downloads a version into DIR, which must be new or empty
  rm      removes one version, or with NAME alone every version; refused while a queued or
          running session uses it
  share   lets USERs read a private dataset (--revoke takes it back); --private/--public switch

Names: lowercase letters, digits, "-" and "_", at most 64 characters.
`;

const PUSH_FLAGS = {
  message: { type: 'string', short: 'm' },
  private: { type: 'boolean' },
  public: { type: 'boolean' },
  share: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const PULL_FLAGS = { json: { type: 'boolean' } } as const;

/** `--private` / `--public` as an optional setting; both is a usage error. */
export function privacyOf(values: { private?: boolean; public?: boolean }, command: string): boolean | undefined {
  if (values.private && values.public) throw usageError('give --private or --public, not both', command);
  return values.private ? true : values.public ? false : undefined;
}

/** `alice,bob` as a list of user names. */
export function usersOf(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((u) => u.trim()).filter((u) => u !== '');
}

async function push(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, PUSH_FLAGS, 'dataset', { min: 2, max: 2 });
  if (!parsed) return printUsage(io, USAGE);
  const { values, positionals } = parsed;
  const isPrivate = privacyOf(values, 'dataset');
  const request = {
    name: positionals[0]!, dir: positionals[1]!, description: values.message ?? '', readers: usersOf(values.share),
    ...(isPrivate === undefined ? {} : { private: isPrivate }),
  };
  const result = await withClient(io, (client) => withDatasets(client, (datasets) => pushDataset(client, datasets, request, io)));
  if (values.json) printJson(io, result);
  else {
    io.out(`${result.ref}\n`);
    io.err(describePush(result));
  }
  return 0;
}

async function pull(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, PULL_FLAGS, 'dataset', { min: 2, max: 2 });
  if (!parsed) return printUsage(io, USAGE);
  const ref = parseDatasetRef(parsed.positionals[0]!);
  const dest = parsed.positionals[1]!;
  const started = Date.now();
  const version = await withClient(io, (client) => withDatasets(client, async (datasets) => {
    const v = await datasets.resolve(ref.name, ref.version, io.signal);
    const manifest = await fetchManifest(client, v.manifest);
    const progress = createProgress(io, { label: `pulling ${v.name}@${v.version}`, totalBytes: v.bytes, totalFiles: v.files });
    try {
      await downloadTree(client, manifest, dest, { progress, signal: io.signal });
    } finally {
      progress.done();
    }
    return v;
  }));
  const ref2 = `${version.name}@${version.version}`;
  if (parsed.values.json) printJson(io, { ref: ref2, name: version.name, version: version.version, dir: dest, files: version.files, bytes: version.bytes });
  else io.err(`pulled ${ref2} into ${dest}: ${plural(version.files, 'file')}, ${formatBytes(version.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  push,
  pull,
  ls: (argv, io) => lsCommand(argv, io, USAGE),
  list: (argv, io) => lsCommand(argv, io, USAGE),
  fs: (argv, io) => fsCommand(argv, io, USAGE),
  rm: (argv, io) => removeCommand(argv, io, USAGE),
  share: (argv, io) => shareCommand(argv, io, USAGE),
};

/** `nsml dataset ...`: push, ls, fs, pull, rm, share. */
export const datasetCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') return printUsage(io, USAGE);
    const fn = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!fn) throw usageError(`unknown subcommand ${JSON.stringify(sub)} (expected push, ls, fs, pull, rm or share)`, 'dataset');
    return fn(rest, io);
  },
};

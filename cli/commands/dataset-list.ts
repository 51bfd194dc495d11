import { parseDatasetRef } from '../../common/dataset-ref.js';
import { validateDatasetName } from '../../common/names.js';
import type { Dataset__Output, DatasetVersion__Output } from '../../common/proto/types.js';
import { printUsage, withClient } from '../command.js';
import { parseFlags } from '../flags.js';
import { formatAgo, formatBytes, formatCount, formatTable, truncate } from '../format.js';
import { type CliIo, printJson } from '../io.js';
import { withDatasets } from './dataset-client.js';
import { fetchManifest } from './dataset-files.js';

const FLAGS = { json: { type: 'boolean' } } as const;

/** One dataset as `nsml dataset ls --json` prints it. */
export function datasetJson(d: Dataset__Output) {
  return {
    name: d.name,
    version: d.latest?.version ?? 0,
    latest: d.latest ? `${d.name}@${d.latest.version}` : '',
    size: d.latest?.bytes ?? 0,
    files: d.latest?.files ?? 0,
    owner: d.owner,
    private: d.private,
    readers: d.readers,
    description: d.description,
    versions: d.versions,
    updatedMs: d.updatedMs,
    updated: new Date(d.updatedMs).toISOString(),
  };
}

function versionJson(v: DatasetVersion__Output) {
  return {
    ref: `${v.name}@${v.version}`, name: v.name, version: v.version, size: v.bytes, files: v.files, manifest: v.manifest,
    description: v.description, pushedBy: v.pushedBy, createdMs: v.createdMs, created: new Date(v.createdMs).toISOString(),
  };
}

function datasetTable(list: Dataset__Output[], now: number): string {
  return formatTable(
    ['NAME', 'LATEST', 'SIZE', 'FILES', 'OWNER', 'UPDATED', 'DESCRIPTION'],
    list.map((d) => [
      d.name, d.latest ? `@${d.latest.version}` : '-', formatBytes(d.latest?.bytes ?? 0), formatCount(d.latest?.files ?? 0),
      d.private ? `${d.owner} (private)` : d.owner, formatAgo(d.updatedMs, now), truncate(d.description, 48),
    ]),
  );
}

function versionTable(list: DatasetVersion__Output[], now: number): string {
  return formatTable(
    ['VERSION', 'SIZE', 'FILES', 'PUSHED BY', 'CREATED', 'DESCRIPTION'],
    list.map((v) => [`${v.name}@${v.version}`, formatBytes(v.bytes), formatCount(v.files), v.pushedBy, formatAgo(v.createdMs, now), truncate(v.description, 48)]),
  );
}

/** `nsml dataset ls [NAME]`: the readable datasets, or every version of one. */
export async function lsCommand(argv: string[], io: CliIo, usage: string): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'dataset', { min: 0, max: 1 });
  if (!parsed) return printUsage(io, usage);
  const json = parsed.values.json ?? false;
  const name = parsed.positionals[0];
  return withClient(io, (client) => withDatasets(client, async (datasets) => {
    if (name !== undefined) {
      const r = await datasets.versions(validateDatasetName(name), io.signal);
      if (json) printJson(io, r.versions.map(versionJson));
      else io.out(versionTable(r.versions, Date.now()));
      return 0;
    }
    const list = await datasets.list('', io.signal);
    if (json) printJson(io, list.map(datasetJson));
    else if (list.length === 0) io.err('no datasets yet; push one with `nsml dataset push NAME DIR`\n');
    else io.out(datasetTable(list, Date.now()));
    return 0;
  }));
}

function modeText(mode: number): string {
  const bits = 'rwxrwxrwx';
  return '-' + [...bits].map((c, i) => ((mode >> (8 - i)) & 1 ? c : '-')).join('');
}

/** `nsml dataset fs NAME[@V]`: the files of a version. */
export async function fsCommand(argv: string[], io: CliIo, usage: string): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, 'dataset', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, usage);
  const ref = parseDatasetRef(parsed.positionals[0]!);
  return withClient(io, (client) => withDatasets(client, async (datasets) => {
    const v = await datasets.resolve(ref.name, ref.version, io.signal);
    const { entries } = await fetchManifest(client, v.manifest);
    const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (parsed.values.json) {
      printJson(io, { ref: `${v.name}@${v.version}`, files: sorted.map((e) => ({ path: e.path, size: e.size, mode: e.mode, hash: e.hash })) });
      return 0;
    }
    const width = Math.max(1, ...sorted.map((e) => formatBytes(e.size).length));
    io.out(sorted.map((e) => `${modeText(e.mode)}  ${formatBytes(e.size).padStart(width)}  ${e.path}\n`).join(''));
    io.err(`${v.name}@${v.version}: ${formatCount(v.files)} files, ${formatBytes(v.bytes)}\n`);
    return 0;
  }));
}

import type { GcReport__Output } from '../../common/proto/types.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { formatBytes, formatCount } from '../format.js';
import { type CliIo, printJson } from '../io.js';

const USAGE = `Usage: nsml admin gc [--dry-run] [--json]

  gc   collects blobs (workspace, dataset and checkpoint files) that no kept session, dataset
       version or checkpoint refers to any more, and abandoned partial uploads. Never taken: a
       blob of an upload in flight, or one younger than the coordinator's --gc-grace (1h).
       --dry-run says what it would remove and removes nothing. Admins only (the user running
       the coordinator, or its --admins). The coordinator also collects every --gc-interval (6h).
`;

const GC_FLAGS = { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } as const;

export const adminCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'gc') return gc(rest, io);
    if (sub === undefined || sub === '--help' || sub === '-h') return printUsage(io, USAGE);
    throw usageError(`unknown subcommand ${JSON.stringify(sub)} (expected gc)`, 'admin');
  },
};

async function gc(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, GC_FLAGS, 'admin');
  if (!parsed) return printUsage(io, USAGE);
  const dryRun = parsed.values['dry-run'] ?? false;
  const report = await withClient(io, (c) => c.collectGarbage(dryRun, io.signal));
  if (parsed.values.json) printJson(io, report);
  else io.out(formatGcReport(report));
  return 0;
}

function count(c: { blobs: number; bytes: number } | null | undefined): string {
  return `${formatCount(c?.blobs ?? 0)} blobs, ${formatBytes(c?.bytes ?? 0)}`;
}

export function formatGcReport(r: GcReport__Output): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = [
    `kept:     ${count(r.kept)} (named by ${formatCount(r.manifests)} manifests)`,
    `spared:   ${count(r.spared)} (unreferenced, but uploading now or younger than the grace period)`,
    `${verb.padEnd(9)} ${count(r.removed)}; ${formatCount(r.partialsRemoved?.blobs ?? 0)} partial uploads, ${formatBytes(r.partialsRemoved?.bytes ?? 0)}`,
    `took:     ${(r.tookMs / 1000).toFixed(2)} s${r.failures > 0 ? `; ${r.failures} files could not be removed (see the coordinator's log)` : ''}`,
  ];
  return lines.join('\n') + '\n';
}

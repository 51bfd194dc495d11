import { parseDatasetRef } from '../../common/dataset-ref.js';
import { validateDatasetName, validateUser } from '../../common/names.js';
import { printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { type CliIo, printJson } from '../io.js';
import { withDatasets } from './dataset-client.js';
import { datasetJson } from './dataset-list.js';

const RM_FLAGS = { json: { type: 'boolean' } } as const;
const SHARE_FLAGS = { revoke: { type: 'boolean' }, private: { type: 'boolean' }, public: { type: 'boolean' }, json: { type: 'boolean' } } as const;

/** `nsml dataset rm NAME[@V]`: one version, or every version of NAME. */
export async function removeCommand(argv: string[], io: CliIo, usage: string): Promise<number> {
  const parsed = parseFlags(argv, RM_FLAGS, 'dataset', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, usage);
  const ref = parseDatasetRef(parsed.positionals[0]!);
  const removed = await withClient(io, (client) => withDatasets(client, (d) => d.remove(ref.name, ref.version, io.signal)));
  const refs = removed.map((v) => `${v.name}@${v.version}`);
  if (parsed.values.json) printJson(io, { removed: refs });
  else io.out(refs.map((r) => `removed ${r}\n`).join(''));
  return 0;
}

/** `nsml dataset share NAME USER,...`: who may read a private dataset. */
export async function shareCommand(argv: string[], io: CliIo, usage: string): Promise<number> {
  const parsed = parseFlags(argv, SHARE_FLAGS, 'dataset', { min: 1, max: 2 });
  if (!parsed) return printUsage(io, usage);
  const { values, positionals } = parsed;
  if (values.private && values.public) throw usageError('give --private or --public, not both', 'dataset');
  const name = validateDatasetName(positionals[0]!);
  const users = (positionals[1] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '').map(validateUser);
  if (users.length === 0 && !values.private && !values.public) throw usageError('name the users to share with, e.g. `nsml dataset share mnist bob,carol`', 'dataset');
  const req = {
    name, add: values.revoke ? [] : users, remove: values.revoke ? users : [],
    ...(values.private ? { private: true } : values.public ? { private: false } : {}),
  };
  const d = await withClient(io, (client) => withDatasets(client, (ds) => ds.share(req, io.signal)));
  if (values.json) printJson(io, datasetJson(d));
  else io.out(`${d.name}: ${d.private ? `private to ${d.owner}${d.readers.length ? `, readable by ${d.readers.join(', ')}` : ''}` : 'public'}\n`);
  return 0;
}

import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags, usageError } from '../flags.js';
import { type CliIo, printJson } from '../io.js';
import { formatNodeGpus, formatNodeTable } from '../node-view.js';

const USAGE = `Usage: nsml node ls [--gpus] [--json]
       nsml node show NODE [--json]
       nsml node drain NODE [--undrain] [--reason TEXT] [--json]
       nsml node forget NODE

  ls       lists the nodes: state, GPUs free/total and every GPU that cannot be used (its
           health and why, or the foreign process holding it), CPUs, memory, last heartbeat,
           and the sessions placed there ("(idle)": their GPUs stay at 0 %);
           --gpus adds each node's per-GPU table
  show     one node with its per-GPU table: memory, utilization, health, processes
  drain    gives a node nothing new (what runs there keeps running); --undrain reverses it
  forget   removes a node that is not connected and holds no session, with its credential,
           so that another agent may join under its name (e.g. a reinstalled machine)

  A node is "disk-full" (NSML_E_DISK_FULL) while its agent's data directory has no room:
  nothing new is placed there until space is freed.
`;

const LS_FLAGS = { json: { type: 'boolean' }, gpus: { type: 'boolean' } } as const;
const SHOW_FLAGS = { json: { type: 'boolean' } } as const;
const DRAIN_FLAGS = { undrain: { type: 'boolean' }, reason: { type: 'string' }, json: { type: 'boolean' } } as const;

export const nodeCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'ls' || sub === 'list') return listNodes(rest, io);
    if (sub === 'show') return showNode(rest, io);
    if (sub === 'drain') return drainNode(rest, io);
    if (sub === 'forget') return forgetNode(rest, io);
    if (sub === undefined || sub === '--help' || sub === '-h') return printUsage(io, USAGE);
    throw usageError(`unknown subcommand ${JSON.stringify(sub)} (expected ls, show, drain or forget)`, 'node');
  },
};

async function listNodes(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, LS_FLAGS, 'node');
  if (!parsed) return printUsage(io, USAGE);
  const nodes = await withClient(io, (c) => c.listNodes(io.signal));
  if (parsed.values.json) printJson(io, nodes);
  else if (nodes.length === 0) io.err('no nodes have registered; start an agent with `nsml agent --coordinator HOST:PORT`\n');
  else if (parsed.values.gpus) io.out(nodes.map((n) => formatNodeGpus(n, Date.now())).join('\n'));
  else io.out(formatNodeTable(nodes, Date.now()));
  return 0;
}

async function showNode(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, SHOW_FLAGS, 'node', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, USAGE);
  const id = parsed.positionals[0]!;
  const nodes = await withClient(io, (c) => c.listNodes(io.signal));
  const node = nodes.find((n) => n.id === id);
  if (!node) {
    const known = nodes.map((n) => n.id).slice(0, 10).join(', ') || 'none';
    throw new NsmlError(ErrorCodes.NODE_NOT_FOUND, `no node named ${JSON.stringify(id)}; known nodes: ${known} (see nsml node ls)`);
  }
  if (parsed.values.json) printJson(io, node);
  else io.out(formatNodeGpus(node, Date.now()));
  return 0;
}

async function drainNode(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, DRAIN_FLAGS, 'node', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, USAGE);
  const { values } = parsed;
  const node = await withClient(io, (c) =>
    c.drainNode({ id: parsed.positionals[0]!, undrain: values.undrain ?? false, reason: values.reason ?? '' }, io.signal),
  );
  if (values.json) printJson(io, node);
  else io.out(`${node.id}: ${node.state}${node.reason ? ` (${node.reason})` : ''}\n`);
  return 0;
}

async function forgetNode(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(argv, {}, 'node', { min: 1, max: 1 });
  if (!parsed) return printUsage(io, USAGE);
  const id = parsed.positionals[0]!;
  await withClient(io, (c) => c.forgetNode(id, io.signal));
  io.out(`${id}: forgotten; an agent may now register under this name\n`);
  return 0;
}

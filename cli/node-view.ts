import type { GpuInfo__Output, Node__Output } from '../common/proto/types.js';
import { formatAgo, formatMib, formatTable, truncate } from './format.js';
import { formatGpuTable } from './gpu-table.js';
import { nodePythons } from './node-python.js';

export interface GpuCounts {
  total: number;
  free: number;
  unhealthy: number;
}

const healthy = (g: GpuInfo__Output) => g.health === '' || g.health === 'ok';
const foreign = (g: GpuInfo__Output) => (g.processes ?? []).filter((p) => !p.session);

/** GPUs of a node: total, free (healthy, not allocated, held by no foreign process) and unhealthy. */
export function gpuCounts(node: Node__Output): GpuCounts {
  const gpus = node.inventory?.gpus ?? [];
  const allocated = new Set(node.allocatedGpus);
  return {
    total: gpus.length,
    free: gpus.filter((g) => healthy(g) && !allocated.has(g.index) && foreign(g).length === 0).length,
    unhealthy: gpus.filter((g) => !healthy(g)).length,
  };
}

/** `ok`, or each GPU that cannot be used: `GPU 3 quarantined: reason; GPU 5 busy: pid 42 (python)`; or the probe's error. */
export function gpuHealth(node: Node__Output, reasonWidth = 40): string {
  const inventory = node.inventory;
  if (inventory?.gpuProbeError) return `probe error: ${truncate(inventory.gpuProbeError, reasonWidth)}`;
  const gpus = inventory?.gpus ?? [];
  if (gpus.length === 0) return '-';
  const problems: string[] = [];
  for (const g of gpus) {
    if (!healthy(g)) problems.push(`GPU ${g.index} ${g.health}: ${truncate(g.healthReason || 'no reason given', reasonWidth)}`);
    const held = foreign(g);
    if (held.length > 0) problems.push(`GPU ${g.index} busy: ${held.map((p) => `pid ${p.pid} (${truncate(p.name || 'unknown', 20)})`).join(', ')}`);
  }
  return problems.length === 0 ? 'ok' : problems.join('; ');
}

/**
 * The GPU HEALTH cell of `nsml node ls`, bounded whatever the node reports: `ok`, `-` (no GPU),
 * `probe error`, or a count per kind of fault, `1 quarantined, 2 busy`. The full text (which
 * GPU, why, which process) is in `nsml node show` and `--json`.
 */
export function gpuHealthSummary(node: Node__Output): string {
  const inventory = node.inventory;
  if (inventory?.gpuProbeError) return 'probe error';
  const gpus = inventory?.gpus ?? [];
  if (gpus.length === 0) return '-';
  const counts = new Map<string, number>();
  const add = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  for (const g of gpus) {
    if (!healthy(g)) add(truncate(g.health, 12));
    if (foreign(g).length > 0) add('busy');
  }
  if (counts.size === 0) return 'ok';
  const parts = [...counts].map(([kind, n]) => `${n} ${kind}`);
  return parts.length > 3 ? `${[...counts.values()].reduce((a, b) => a + b, 0)} faults` : parts.join(', ');
}

/** The sessions placed on a node, idle ones marked: `alice/mnist/3 (idle) bob/scratch/1`. */
export function nodeSessions(node: Node__Output): string {
  const idle = new Set(node.idleSessions ?? []);
  return node.sessions.map((s) => (idle.has(s) ? `${s} (idle)` : s)).join(' ');
}

/**
 * Whether a node keeps its users apart (NodeInventory.isolation): `apart` (each session as an
 * unprivileged uid of its user), `shared uid` (every session as the agent's own user: it can
 * read the others' data), `-` (an agent too old to say).
 */
export function nodeUsers(node: Node__Output): string {
  const isolation = node.inventory?.isolation ?? '';
  return isolation === 'users' ? 'apart' : isolation === 'none' ? 'shared uid' : '-';
}

export function formatNodeTable(nodes: Node__Output[], now: number): string {
  const withReason = nodes.some((n) => n.reason);
  const withUsers = nodes.some((n) => n.inventory?.isolation === 'none'); // shown when some node cannot keep users apart
  const withPy = nodes.some((n) => (n.inventory?.pythons ?? []).length > 0 || n.inventory?.containerRuntime); // agent/env: what --python and --image may ask
  const headers = ['ID', 'STATE', 'GPUS', 'GPU HEALTH', 'CPUS', 'MEMORY', ...(withPy ? ['PY'] : []), 'HEARTBEAT', 'SESSIONS', ...(withUsers ? ['USERS'] : [])];
  const rows = nodes.map((n) => {
    const c = gpuCounts(n);
    const row = [
      n.id,
      n.state,
      `${c.free}/${c.total} free`,
      gpuHealthSummary(n),
      n.inventory?.cpus ? String(n.inventory.cpus) : '-',
      formatMib(n.inventory?.memoryMib ?? 0),
      ...(withPy ? [nodePythons(n)] : []),
      formatAgo(n.lastHeartbeatMs, now),
      truncate(nodeSessions(n), 60) || '-',
      ...(withUsers ? [nodeUsers(n)] : []),
    ];
    if (withReason) row.push(n.reason || '-');
    return row;
  });
  return formatTable(withReason ? [...headers, 'REASON'] : headers, rows);
}

/** `nsml node show` and `nsml node ls --gpus`: one node's summary line, then its per-GPU table. */
export function formatNodeGpus(node: Node__Output, now: number): string {
  const c = gpuCounts(node);
  const head = `${node.id}  ${node.state}${node.reason ? ` (${node.reason})` : ''}  ${c.free}/${c.total} GPUs free  ` +
    `heartbeat ${formatAgo(node.lastHeartbeatMs, now)}  sessions: ${nodeSessions(node) || '-'}${node.inventory?.isolation ? `  users: ${nodeUsers(node)}` : ''}` +
    `${node.inventory?.pythons?.length ? `  python: ${node.inventory.pythons.join(', ')}` : ''}${node.inventory?.containerRuntime ? `  images: ${node.inventory.containerRuntime}` : ''}\n`;
  const inventory = node.inventory;
  if (inventory?.gpuProbeError) return `${head}probe error: ${inventory.gpuProbeError}\n`;
  const gpus = inventory?.gpus ?? [];
  return head + (gpus.length === 0 ? 'no GPU\n' : formatGpuTable(gpus));
}

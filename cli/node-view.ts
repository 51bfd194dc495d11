import type { Node__Output } from '../common/proto/types.js';
import { formatAgo, formatMib, formatTable, truncate } from './format.js';

export interface GpuCounts {
  total: number;
  free: number;
  unhealthy: number;
}

/** GPUs of a node: total, free (healthy and not allocated) and unhealthy. */
export function gpuCounts(node: Node__Output): GpuCounts {
  const gpus = node.inventory?.gpus ?? [];
  const allocated = new Set(node.allocatedGpus);
  const healthy = (health: string) => health === '' || health === 'ok';
  return {
    total: gpus.length,
    free: gpus.filter((g) => healthy(g.health) && !allocated.has(g.index)).length,
    unhealthy: gpus.filter((g) => !healthy(g.health)).length,
  };
}

/** `ok`, `1 quarantined, 1 lost`, or the probe's error. */
export function gpuHealth(node: Node__Output): string {
  const inventory = node.inventory;
  if (inventory?.gpuProbeError) return `probe error: ${truncate(inventory.gpuProbeError, 40)}`;
  const gpus = inventory?.gpus ?? [];
  if (gpus.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const g of gpus) {
    const health = g.health || 'ok';
    if (health !== 'ok') counts.set(health, (counts.get(health) ?? 0) + 1);
  }
  if (counts.size === 0) return 'ok';
  return [...counts].map(([health, n]) => `${n} ${health}`).join(', ');
}

export function formatNodeTable(nodes: Node__Output[], now: number): string {
  const withReason = nodes.some((n) => n.reason);
  const headers = ['ID', 'STATE', 'GPUS FREE/TOTAL', 'GPU HEALTH', 'CPUS', 'MEMORY', 'HEARTBEAT', 'SESSIONS'];
  const rows = nodes.map((n) => {
    const c = gpuCounts(n);
    const row = [
      n.id,
      n.state,
      `${c.free}/${c.total}`,
      gpuHealth(n),
      n.inventory?.cpus ? String(n.inventory.cpus) : '-',
      formatMib(n.inventory?.memoryMib ?? 0),
      formatAgo(n.lastHeartbeatMs, now),
      truncate(n.sessions.join(' '), 50) || '-',
    ];
    if (withReason) row.push(n.reason || '-');
    return row;
  });
  return formatTable(withReason ? [...headers, 'REASON'] : headers, rows);
}

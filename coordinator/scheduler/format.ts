/** Words for wait reasons: short, exact enough to act on. */

/** `1h 05m`, `3m 20s`, `45s`, `2d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** GPU-seconds as GPU-hours with one decimal. */
export function formatGpuHours(gpuSeconds: number): string {
  return `${(gpuSeconds / 3600).toFixed(1)} GPU-h`;
}

/** `4 on n3, 2 on n7, 1 on n1 and 3 more nodes` (at most `max` nodes named). */
export function formatSplit(split: { nodeId: string; free: number }[], max = 6): string {
  const named = split.slice(0, max).map((x) => `${x.free} on ${x.nodeId}`);
  const more = split.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more node${more === 1 ? '' : 's'}` : named.join(', ');
}

/** `n1, n2, n3` or `n1, n2, … (12 nodes)`. */
export function formatNodes(ids: string[], max = 4): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')}, … (${ids.length} nodes)`;
}

/** `8 GPUs on one node` or `2 nodes × 8 GPUs`. */
export function formatShape(processes: number, perNode: number): string {
  if (perNode === 0) return 'no GPU';
  return processes === 1 ? `${perNode} GPU${perNode === 1 ? '' : 's'} on one node` : `${processes} nodes × ${perNode} GPUs`;
}

/** Memory for people: `512 MiB`, `16 GiB`, `1.5 GiB`; unknown (unlimited) as `any`. */
export function formatMib(mib: number): string {
  if (!Number.isFinite(mib)) return 'any';
  if (mib < 1024) return `${Math.round(mib)} MiB`;
  return `${Number((mib / 1024).toFixed(1))} GiB`;
}

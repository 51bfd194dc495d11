import type { GpuInfo } from '../common/proto/types.js';
import { processGroupOf } from './runner/proc.js';
import type { RankRunner } from './runner/rank-runner.js';

/**
 * Marks each GPU process with the session that owns it: a process belongs to a session when it
 * is in the process group of one of the session's ranks on this node. The rest stay foreign ("").
 */
export function attributeGpuProcesses(gpus: GpuInfo[], ranks: RankRunner[], groupOf: (pid: number) => number | undefined = processGroupOf): GpuInfo[] {
  const owners = new Map<number, string>();
  for (const r of ranks) {
    const pgid = r.finished ? undefined : r.pgid;
    if (pgid !== undefined) owners.set(pgid, r.spec.session);
  }
  if (owners.size === 0) return gpus;
  return gpus.map((g) => ({
    ...g,
    processes: (g.processes ?? []).map((p) => {
      const pgid = p.pid ? groupOf(p.pid) : undefined;
      const owner = pgid === undefined ? undefined : owners.get(pgid);
      return owner ? { ...p, session: owner } : p;
    }),
  }));
}

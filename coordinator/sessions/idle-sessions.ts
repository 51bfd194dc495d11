/**
 * Idle sessions: each agent reports, at every heartbeat, the sessions whose GPUs on its node all
 * stayed at 0 % for its idle window (the full list). A session is idle when every node that runs
 * its current epoch reports it idle; the flag is stored on the session and cleared as soon as one
 * of its nodes stops reporting it.
 */
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { Store } from '../store/types.js';

export interface IdleReportDeps {
  store: Pick<Store, 'activeAssignments' | 'getSession' | 'updateSession'>;
  agents: Pick<AgentRegistry, 'setIdle' | 'idleSessions'>;
}

/** Records one node's report and updates the idle flag of every session placed on that node. */
export function applyIdleReport(deps: IdleReportDeps, nodeId: string, reported: readonly string[]): void {
  deps.agents.setIdle(nodeId, [...new Set(reported)]);
  for (const [session, nodes] of nodesBySession(deps.store)) {
    if (!nodes.has(nodeId)) continue;
    const idle = [...nodes].every((n) => deps.agents.idleSessions(n).includes(session));
    const row = deps.store.getSession(session);
    if (row && row.idle !== idle) deps.store.updateSession(session, { idle });
  }
}

function nodesBySession(store: IdleReportDeps['store']): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const a of store.activeAssignments()) {
    const nodes = out.get(a.session) ?? new Set<string>();
    nodes.add(a.nodeId);
    out.set(a.session, nodes);
  }
  return out;
}

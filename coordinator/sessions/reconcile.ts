import type { RunningProcess__Output } from '../../common/proto/types.js';
import { isTerminal } from '../store/types.js';
import type { Effects } from './effects.js';
import type { SessionOps } from './session-ops.js';

/**
 * Reconciles what a (re)registering agent runs with the store, per proto/agent-stream.md:
 * adopt the current epoch, stop anything stale, send `start` again for a placement the agent
 * never got, and declare lost a started rank the agent no longer has.
 */
export function reconcileNode(ops: SessionOps, fx: Effects, nodeId: string, running: RunningProcess__Output[], graceMs: number): void {
  const listed = new Set<string>();
  for (const p of running) {
    listed.add(`${p.session}|${p.epoch}|${p.rank}`);
    adoptOrStop(ops, fx, nodeId, p);
  }
  for (const a of ops.store.activeAssignments()) {
    if (a.nodeId !== nodeId || a.state === 'exited' || listed.has(`${a.session}|${a.epoch}|${a.rank}`)) continue;
    const s = ops.store.getSession(a.session);
    if (!s || isTerminal(s.state)) continue;
    if (a.state === 'pending' || (a.state === 'sent' && s.state === 'scheduled')) {
      ops.resendStart(fx, s, a);
      ops.settle(fx, s.name);
    } else {
      ops.rankGone(fx, s, a, `the agent on ${nodeId} restarted without rank ${a.rank}`, graceMs);
    }
  }
}

function adoptOrStop(ops: SessionOps, fx: Effects, nodeId: string, p: RunningProcess__Output): void {
  const s = ops.store.getSession(p.session);
  const rank = s && p.epoch === s.epoch ? ops.store.assignments(s.name, s.epoch).find((r) => r.rank === p.rank) : undefined;
  if (!s || !rank || rank.nodeId !== nodeId || isTerminal(s.state)) {
    if (s && rank && rank.nodeId === nodeId && p.state === 'exited' && rank.state !== 'exited') {
      ops.store.updateRank(s.name, s.epoch, p.rank, { state: 'exited', exitCode: p.exitCode });
    }
    if (p.state !== 'exited') {
      const why = !s ? 'unknown session' : isTerminal(s.state) ? `the session already ended (${s.state})` : `the session is at epoch ${s.epoch}`;
      fx.stop(nodeId, p.session, p.epoch, 0, `stale epoch ${p.epoch}: ${why}`);
    }
    return;
  }
  if (rank.state === 'exited') return;
  if (p.state === 'exited') {
    ops.store.updateRank(s.name, s.epoch, p.rank, { state: 'exited', exitCode: p.exitCode, signal: p.exitCode === -1 ? 'signal' : '' });
  } else if (p.state === 'running') {
    ops.store.updateRank(s.name, s.epoch, p.rank, { state: 'running' });
  } else if (rank.state === 'pending' || rank.state === 'sent') {
    ops.store.updateRank(s.name, s.epoch, p.rank, { state: 'starting' });
  }
  if (s.stopRequestedMs > 0 && p.state !== 'exited') fx.stop(nodeId, s.name, s.epoch, s.stopGraceMs, 'stop requested');
  ops.settle(fx, s.name);
}

import type { Clock } from '../../common/clock.js';
import type { CoordinatorMessage } from '../../common/proto/types.js';
import type { AgentRegistry } from '../agents/agent-registry.js';
import type { AssignmentRow, SessionRow, Store } from '../store/types.js';
import { ACTIVE_STATES, isTerminal } from '../store/types.js';
import type { StepTracker } from './step-tracker.js';
import { forEveryRank, isFinal, type CommandRow, type CommandState, type TargetRow } from './types.js';

export interface DeliveryDeps {
  store: Store;
  agents: Pick<AgentRegistry, 'isConnected'>;
  steps: StepTracker;
  clock: Clock;
  /** How far ahead of the furthest rank a gang's `set` is scheduled, in milliseconds of its progress. */
  gangLeadMs: number;
}

/** A message to send once the transaction that decided it committed. */
export interface Outgoing {
  nodeId: string;
  message: CoordinatorMessage;
}

/**
 * Works out a command's state from its targets: applied when every target applied, failed when
 * every target is final and one failed, delivered once one was sent. Records it; returns the row.
 */
export function settleCommand(store: Store, id: string, nowMs: number): CommandRow {
  const cmd = store.commands.get(id)!;
  if (isFinal(cmd.state)) return cmd;
  const targets = store.commands.targets(id);
  let state: CommandState = cmd.state;
  if (targets.length > 0 && targets.every((t) => isFinal(t.state))) state = targets.every((t) => t.state === 'applied') ? 'applied' : 'failed';
  else if (targets.some((t) => t.state !== 'queued')) state = 'delivered';
  if (state === cmd.state) return cmd;
  const patch = { state, ...(cmd.deliveredMs === 0 && state !== 'queued' ? { deliveredMs: nowMs } : {}), ...(isFinal(state) ? { finishedMs: nowMs } : {}) };
  store.commands.update(id, patch);
  return { ...cmd, ...patch };
}

/** Fails a command (and its open targets) for a reason of the platform's. */
export function failCommand(store: Store, cmd: CommandRow, reason: string, nowMs: number): CommandRow {
  for (const t of store.commands.targets(cmd.id)) {
    if (!isFinal(t.state)) store.commands.updateTarget(cmd.id, t.rank, { state: 'failed', finishedMs: nowMs, result: platformError(reason) });
  }
  store.commands.update(cmd.id, { state: 'failed', reason, finishedMs: nowMs });
  return { ...cmd, state: 'failed', reason, finishedMs: nowMs };
}

export function platformError(message: string, code = ''): TargetRow['result'] {
  return { ok: false, valueJson: '', errorType: '', errorCode: code, errorMessage: message, traceback: '' };
}

/** Whether a target must be sent (again) to the current placement. */
function needsSending(t: TargetRow, s: SessionRow, redeliverNode: string | undefined): boolean {
  if (isFinal(t.state)) return false;
  return t.state === 'queued' || t.epoch !== s.epoch || (redeliverNode !== undefined && t.nodeId === redeliverNode);
}

/**
 * Sends what a command still needs sent, inside a store transaction: to each target rank of the
 * session's current placement whose start went out and whose agent is connected. `set`, `load`
 * and `stop` go to every rank, at one `at_step` when the session has several. Commands of finished
 * sessions fail.
 * Returns the command as it is now.
 */
export function deliverCommand(deps: DeliveryDeps, cmd: CommandRow, out: Outgoing[], redeliverNode?: string): CommandRow {
  const { store } = deps;
  const now = deps.clock.now();
  const s = store.getSession(cmd.session);
  if (!s || isTerminal(s.state)) {
    return failCommand(store, cmd, `session ${cmd.session} ended (${s?.state ?? 'removed'}) before the command was applied`, now);
  }
  // Not placed (yet, or again after a preemption): it goes out with the next placement's starts.
  if (s.epoch === 0 || !ACTIVE_STATES.includes(s.state)) return cmd;
  const ranks = store.assignments(s.name, s.epoch);
  if (forEveryRank(cmd.name) && ranks.length > 0) store.commands.addTargets(cmd.id, ranks.map((r) => r.rank));
  const pending = store.commands.targets(cmd.id).filter((t) => needsSending(t, s, redeliverNode));
  if (pending.length === 0) return settleCommand(store, cmd.id, now);
  // A new placement restarts the script: a step chosen for the old one means nothing there.
  if (pending.some((t) => t.epoch !== 0 && t.epoch !== s.epoch)) cmd.atStep = null;
  const atStep = gangStep(deps, cmd, s, ranks);
  for (const t of pending) {
    const a = ranks.find((r) => r.rank === t.rank);
    if (!a) continue;
    if (a.state === 'exited') {
      store.commands.updateTarget(cmd.id, t.rank, { state: 'failed', finishedMs: now, result: platformError(`rank ${t.rank} already exited`) });
      continue;
    }
    if (a.state === 'pending' || !deps.agents.isConnected(a.nodeId)) continue;
    out.push({ nodeId: a.nodeId, message: { command: commandMessage(cmd, s, a, atStep) } });
    store.commands.updateTarget(cmd.id, t.rank, { state: 'delivered', epoch: s.epoch, nodeId: a.nodeId, deliveredMs: now });
  }
  return settleCommand(store, cmd.id, now);
}

/** The step a command for every rank of a gang waits for, fixed at its first delivery; null otherwise. */
function gangStep(deps: DeliveryDeps, cmd: CommandRow, s: SessionRow, ranks: AssignmentRow[]): number | null {
  if (!forEveryRank(cmd.name) || ranks.length < 2) return null;
  if (cmd.atStep !== null) return cmd.atStep;
  const step = deps.steps.atStep(s.name, s.epoch, ranks.map((r) => r.rank), deps.clock.now(), deps.gangLeadMs);
  if (step === undefined) return null;
  deps.store.commands.update(cmd.id, { atStep: step });
  cmd.atStep = step;
  return step;
}

function commandMessage(cmd: CommandRow, s: SessionRow, a: AssignmentRow, atStep: number | null): CoordinatorMessage['command'] {
  return {
    id: cmd.id,
    session: s.name,
    epoch: s.epoch,
    rank: a.rank,
    name: cmd.name,
    argsJson: cmd.argsJson,
    ...(atStep !== null ? { atStep } : {}),
  };
}

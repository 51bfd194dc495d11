import { ErrorCodes, errorMessage, isNsmlError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { SessionCommand__Output } from '../../common/proto/types.js';
import type { BridgeCommand } from '../bridge/protocol.js';
import { validateCommand } from '../bridge/validate-command.js';
import type { RankServices } from '../runner/rank-context.js';
import { isFinished, type RankPhase } from '../runner/rank-runner.js';
import { rankKeyString, type RankKey, type RankSpec } from '../runner/rank-spec.js';
import type { SessionDir } from '../runner/session-dir.js';
import { sessionUserOf } from '../runner/session-user.js';
import { RankBridge } from './rank-bridge.js';
import { RankHandler, type CheckpointsFactory } from './rank-handler.js';
import { SeenCommands } from './seen-commands.js';
import type { CommandResult as WireResult } from '../../common/proto/types.js';
import type { CommandResult } from '../bridge/protocol.js';
import { agentFailure } from './to-wire.js';

export interface SessionBridgesOptions {
  /** Where the agent's own answers go (a refused command): sent once, never replayed. */
  telemetry: { sendOnce(result: WireResult): void };
  /** Checkpoint saving and loading per rank (agent/checkpoints); absent: refused with NSML_E_AGENT_UNAVAILABLE. */
  checkpoints?: CheckpointsFactory;
  /** The phase of a rank this node has (by `rankKeyString`), undefined when it has none. */
  rankPhase(key: string): RankPhase | undefined;
  logger: Logger;
  /** How long a closing bridge waits for the script's connections to end. Default 2,000 ms. */
  closeGraceMs?: number;
  watcherStableMs?: number;
}

/** How a save the agent asked for went. */
export type SaveOutcome =
  | { outcome: 'saved' | 'no script' | 'timed out' }
  | { outcome: 'failed'; message: string };

export interface SessionBridgesStatus {
  open: number;
  waitingCommands: number;
  commandsDelivered: number;
  commandsRefused: number;
}

/**
 * The SDK side of every rank on this node: opens each rank's bridge before its process starts
 * (and for a re-adopted rank), closes it when the rank ends, and hands the coordinator's
 * commands to the right script, once each. A command for a rank whose bridge is not open yet
 * waits for it.
 */
export class SessionBridges implements RankServices {
  private readonly bridges = new Map<string, RankBridge>();
  private readonly waiting = new Map<string, { seen: SeenCommands; commands: BridgeCommand[] }>();
  private delivered = 0;
  private refused = 0;
  private ownCommands = 0;

  constructor(private readonly o: SessionBridgesOptions) {}

  async open(spec: RankSpec, dir: SessionDir): Promise<void> {
    const key = rankKeyString(spec);
    if (this.bridges.has(key)) return;
    const id: RankKey = { session: spec.session, epoch: spec.epoch, rank: spec.rank };
    const runAs = sessionUserOf(dir);
    const owner = runAs ? { uid: runAs.uid, gid: runAs.gid, stagingDir: dir.root } : undefined;
    const checkpoints = this.o.checkpoints?.({ ...id, user: spec.user, checkpointDir: dir.checkpoints, ...(owner ? { owner } : {}) });
    const handler = new RankHandler(id, dir.telemetry, checkpoints, this.o.logger);
    const early = this.waiting.get(key);
    const bridge = await RankBridge.open(spec, dir, early?.seen ?? new SeenCommands(), {
      handler, logger: this.o.logger, ...(this.o.watcherStableMs !== undefined ? { watcherStableMs: this.o.watcherStableMs } : {}),
    });
    this.bridges.set(key, bridge);
    this.waiting.delete(key);
    for (const command of early?.commands ?? []) this.hand(id, bridge, command);
  }

  async close(spec: RankSpec): Promise<void> {
    const key = rankKeyString(spec);
    const bridge = this.bridges.get(key);
    this.bridges.delete(key);
    for (const command of this.waiting.get(key)?.commands ?? []) this.refuse(spec, command.id, `the script of rank ${spec.rank} of ${spec.session} ended before it could take the command`);
    this.waiting.delete(key);
    try {
      await bridge?.close(this.o.closeGraceMs ?? 2_000);
    } catch (err) {
      this.o.logger.warn('cannot close a rank bridge', { session: spec.session, rank: spec.rank, error: errorMessage(err) });
    }
  }

  /** A result read from a rank's journal: true when it answers a command the agent itself sent. */
  takeOwn(key: string, result: CommandResult): boolean {
    return this.bridges.get(key)?.handler.takeOwn(result) ?? false;
  }

  /** A `command` from the coordinator. */
  deliver(m: SessionCommand__Output): void {
    const key = rankKeyString(m);
    const phase = this.o.rankPhase(key);
    if (phase === undefined || isFinished(phase)) {
      const why = phase === undefined ? `node does not run rank ${m.rank} of ${m.session} (epoch ${m.epoch})` : `script of rank ${m.rank} of ${m.session} already exited`;
      return this.refuse(m, m.id, `the ${why}`);
    }
    let command: BridgeCommand;
    try {
      command = validateCommand({ id: m.id, name: m.name as BridgeCommand['name'], args: argsOf(m) });
    } catch (err) {
      return this.refuse(m, m.id, errorMessage(err), isNsmlError(err) ? err.code : ErrorCodes.INVALID_ARGUMENT);
    }
    const bridge = this.bridges.get(key);
    if (bridge) return this.hand(m, bridge, command);
    const early = this.waiting.get(key) ?? { seen: new SeenCommands(), commands: [] };
    if (early.seen.has(command.id) || early.commands.some((c) => c.id === command.id)) return;
    early.commands.push(command);
    this.waiting.set(key, early);
  }

  /**
   * Asks the script of one rank to save checkpoint `name` with its bound save (the `save`
   * command, sent by the agent itself, e.g. before a preemption) and waits up to `timeoutMs`
   * for the answer. Says 'no script' at once when no script is connected to the rank's bridge.
   */
  async askToSave(key: RankKey, name: string, timeoutMs: number): Promise<SaveOutcome> {
    const bridge = this.bridges.get(rankKeyString(key));
    if (!bridge || !bridge.connected) return { outcome: 'no script' };
    const id = `agent-save-${key.epoch}-${key.rank}-${Date.now()}-${++this.ownCommands}`;
    const result = await bridge.ask({ id, name: 'save', args: { name } }, timeoutMs);
    if (!result) return { outcome: 'timed out' };
    return result.ok ? { outcome: 'saved' } : { outcome: 'failed', message: result.error?.message ?? 'the save failed' };
  }

  /** Closes every bridge (the agent is closing; the processes keep running). */
  async closeAll(): Promise<void> {
    const all = [...this.bridges.values()];
    this.bridges.clear();
    await Promise.allSettled(all.map((b) => b.close(0)));
  }

  getStatus(): SessionBridgesStatus {
    let waiting = 0;
    for (const w of this.waiting.values()) waiting += w.commands.length;
    return { open: this.bridges.size, waitingCommands: waiting, commandsDelivered: this.delivered, commandsRefused: this.refused };
  }

  private hand(id: RankKey, bridge: RankBridge, command: BridgeCommand): void {
    if (bridge.seen.has(command.id)) return;
    try {
      bridge.send(command);
      this.delivered++;
    } catch (err) {
      this.refuse(id, command.id, errorMessage(err), isNsmlError(err) ? err.code : ErrorCodes.INTERNAL);
    }
  }

  private refuse(id: RankKey, commandId: string, message: string, code: string = ErrorCodes.AGENT_UNAVAILABLE): void {
    this.refused++;
    this.o.logger.warn('command not delivered', { session: id.session, rank: id.rank, id: commandId, reason: message });
    this.o.telemetry.sendOnce({ ...agentFailure(commandId, message, code), session: id.session, epoch: id.epoch, rank: id.rank });
  }
}

/** The command's args object, with `at_step` when the gang applies it at one step. */
function argsOf(m: SessionCommand__Output): Record<string, unknown> {
  const parsed = m.argsJson.trim() === '' ? {} : (JSON.parse(m.argsJson) as unknown);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parsed as Record<string, unknown>;
  const args = { ...(parsed as Record<string, unknown>) };
  if (typeof m.atStep === 'number') args.at_step = m.atStep;
  return args;
}

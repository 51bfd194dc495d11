/** A command's (and a target's) progress: persisted, sent down a stream, then answered. */
export type CommandState = 'queued' | 'delivered' | 'applied' | 'failed';

export function isFinal(state: string): boolean {
  return state === 'applied' || state === 'failed';
}

/**
 * Commands every rank of a gang applies, at one step: a changed hyperparameter, a loaded
 * checkpoint and a stop must hold for the whole gang. The others (get, call, save) go to rank 0.
 */
const EVERY_RANK = new Set(['set', 'load', 'stop']);

export function forEveryRank(name: string): boolean {
  return EVERY_RANK.has(name);
}

/** One operator command for one session (`nsml control`). */
export interface CommandRow {
  id: string;
  session: string;
  user: string;
  name: string;
  /** The args object as JSON. */
  argsJson: string;
  /** `set` on a gang: the step every rank applies it at; null otherwise (or until first delivered). */
  atStep: number | null;
  state: CommandState;
  /** Why it failed when the platform failed it (not the script). */
  reason: string;
  createdMs: number;
  deliveredMs: number;
  finishedMs: number;
}

export type NewCommand = Pick<CommandRow, 'id' | 'session' | 'user' | 'name' | 'argsJson' | 'createdMs'>;

/** What a script (or the agent on its behalf) answered. */
export interface TargetResult {
  ok: boolean;
  /** ok: the value as JSON. */
  valueJson: string;
  errorType: string;
  errorCode: string;
  errorMessage: string;
  traceback: string;
}

/** The command's delivery to one rank. */
export interface TargetRow {
  command: string;
  rank: number;
  state: CommandState;
  /** The placement it was last sent to (0: never sent). */
  epoch: number;
  nodeId: string;
  deliveredMs: number;
  finishedMs: number;
  step: number | null;
  result: TargetResult | undefined;
}

export type CommandPatch = Partial<Pick<CommandRow, 'state' | 'reason' | 'atStep' | 'deliveredMs' | 'finishedMs'>>;
export type TargetPatch = Partial<Pick<TargetRow, 'state' | 'epoch' | 'nodeId' | 'deliveredMs' | 'finishedMs' | 'step' | 'result'>>;

/** The command rows of the coordinator's SQLite state; plain reads and writes. */
export interface CommandTable {
  /** Inserts a queued command with a queued target per rank. */
  insert(command: NewCommand, ranks: readonly number[]): void;
  get(id: string): CommandRow | undefined;
  /** In rank order. */
  targets(id: string): TargetRow[];
  /** Adds queued targets for ranks that have none. */
  addTargets(id: string, ranks: readonly number[]): void;
  /** Commands not applied or failed yet, oldest first. */
  open(): CommandRow[];
  update(id: string, patch: CommandPatch): void;
  updateTarget(id: string, rank: number, patch: TargetPatch): void;
}

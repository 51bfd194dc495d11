import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { ExecStart__Output } from '../../common/proto/generated/nsml/v1/ExecStart.js';
import type { Caller } from '../auth/caller.js';
import { sessionFor } from '../auth/session-access.js';
import type { Store } from '../store/types.js';
import { isTerminal } from '../store/types.js';

/** Limits on what a start frame may ask. */
export const MAX_ARGV_ITEMS = 4096;
export const MAX_ARGV_BYTES = 256 * 1024;
const MAX_TERMINAL_SIDE = 10_000;

/** Where and what to run, once the caller's start frame was checked. */
export interface ExecTarget {
  session: string;
  epoch: number;
  rank: number;
  nodeId: string;
  argv: string[];
  tty: boolean;
  rows: number;
  cols: number;
  term: string;
}

function invalid(message: string): NsmlError {
  return new NsmlError(ErrorCodes.INVALID_ARGUMENT, message);
}

/**
 * Checks a start frame and finds the node of the asked rank: only the owner, an admin or a
 * `control` share may exec (others get the not-found answer), and only into a running session.
 */
export function execTarget(store: Pick<Store, 'users' | 'getSession' | 'assignments'>, caller: Caller, start: ExecStart__Output): ExecTarget {
  const row = sessionFor(store, caller, start.session, 'control');
  if (isTerminal(row.state)) {
    throw new NsmlError(ErrorCodes.SESSION_NOT_RUNNING, `session ${row.name} has ended (${row.state}); there is nothing to run a command in. Start a new one with \`nsml run\``, { details: { session: row.name, state: row.state } });
  }
  if (row.state !== 'running') {
    throw new NsmlError(ErrorCodes.SESSION_NOT_RUNNING, `session ${row.name} is ${row.state}, not running yet; try again once \`nsml ps\` shows it running`, { details: { session: row.name, state: row.state } });
  }
  if (!Number.isInteger(start.rank) || start.rank < 0) throw invalid(`rank must be 0 or more; got ${start.rank}`);
  const ranks = store.assignments(row.name, row.epoch);
  const placed = ranks.find((a) => a.rank === start.rank);
  if (!placed) throw invalid(`session ${row.name} has ranks 0 to ${Math.max(0, ranks.length - 1)}; got --rank ${start.rank}`);
  if (start.argv.length > MAX_ARGV_ITEMS) throw invalid(`the command has ${start.argv.length} words; at most ${MAX_ARGV_ITEMS} are allowed`);
  const bytes = start.argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  if (bytes > MAX_ARGV_BYTES) throw invalid(`the command is ${bytes} bytes long; at most ${MAX_ARGV_BYTES} are allowed (pass long input on stdin)`);
  if (start.argv.some((a) => a.includes('\0'))) throw invalid('a word of the command holds a NUL byte');
  if (start.argv.length > 0 && start.argv[0] === '') throw invalid('the command to run is empty; give one after `--`');
  const rows = start.size?.rows ?? 0;
  const cols = start.size?.cols ?? 0;
  for (const [name, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_TERMINAL_SIDE) throw invalid(`terminal ${name} must be 0 to ${MAX_TERMINAL_SIDE}; got ${v}`);
  }
  const term = /^[A-Za-z0-9._+-]{0,64}$/.test(start.term) ? start.term : '';
  return { session: row.name, epoch: row.epoch, rank: start.rank, nodeId: placed.nodeId, argv: start.argv, tty: start.tty, rows, cols, term };
}

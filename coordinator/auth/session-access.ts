import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { parseSessionName } from '../../common/names.js';
import type { SessionRow, Store } from '../store/types.js';
import type { Caller } from './caller.js';

/** The tables access is decided from; `lineage` lets a fork's agent read its parent. */
type AccessStore = Pick<Store, 'users'> & Partial<Pick<Store, 'lineage'>>;

/**
 * What a caller wants to do with a session:
 * - read: see it, follow its logs and metrics, wait for it, read its checkpoints;
 * - control: send it commands (`nsml control`) and stop it;
 * - own: remove it, share it, register its checkpoints.
 */
export type SessionNeed = 'read' | 'control' | 'own';

/** Owners and admins may do everything; a share gives read, or read and control. */
export function sessionAllows(store: AccessStore, caller: Caller, row: SessionRow, need: SessionNeed): boolean | 'hidden' {
  if (caller.node) {
    // An agent acts for a session placed on it: all of that session, reading what its owner may
    // read, and reading the parent a fork continues from (its submitter could read it).
    if (!caller.session) return 'hidden';
    if (caller.session === row.name) return true;
    if (need !== 'read') return 'hidden';
    if (store.lineage?.get(caller.session)?.parent === row.name) return true;
  }
  if (caller.admin || row.user === caller.user) return true;
  const role = store.users.shareRole(row.name, caller.user);
  if (!role) return 'hidden';
  return need === 'read' || (need === 'control' && role === 'control');
}

export function sessionNotFound(name: string): NsmlError {
  return new NsmlError(ErrorCodes.SESSION_NOT_FOUND, `no session named ${name} that you can see; list yours with \`nsml ps -a\``, { details: { session: name } });
}

/**
 * The session `name` when `caller` may do `need` with it. A session the caller may not see at
 * all answers exactly like a missing one (NSML_E_SESSION_NOT_FOUND), so names of other users'
 * sessions cannot be probed; a shared session answers NSML_E_PERMISSION_DENIED for what the
 * share does not give.
 */
export function sessionFor(store: AccessStore & Pick<Store, 'getSession'>, caller: Caller, name: string, need: SessionNeed): SessionRow {
  parseSessionName(name);
  const row = store.getSession(name);
  if (!row) throw sessionNotFound(name);
  const verdict = sessionAllows(store, caller, row, need);
  if (verdict === 'hidden') throw sessionNotFound(name);
  if (!verdict) {
    const message = need === 'control'
      ? `session ${name} is shared with ${caller.user} to read only; to control or stop it, ask ${row.user}: \`nsml share ${name} ${caller.user} --control\``
      : `only ${row.user} (its owner) or an admin may remove, share or write checkpoints of session ${name}; a share lets ${caller.user} read${store.users.shareRole(name, caller.user) === 'control' ? ', control and stop' : ''} it`;
    throw new NsmlError(ErrorCodes.PERMISSION_DENIED, message, { details: { session: name, owner: row.user } });
  }
  return row;
}

import type { Caller } from '../auth/caller.js';
import type { ListSessionsQuery, SessionRow, Store } from '../store/types.js';

/**
 * The sessions of a listing that `caller` may see: an admin sees every one; a user sees their
 * own and those shared with them (`user` '*' or another user's name lists only the shared ones
 * of that user). Newest first, at most `limit`.
 */
export function listVisible(store: Pick<Store, 'listSessions' | 'getSession' | 'users'>, caller: Caller, q: ListSessionsQuery): SessionRow[] {
  if (caller.admin) return store.listSessions(q);
  const own = q.user === undefined || q.user === caller.user ? store.listSessions({ ...q, user: caller.user }) : [];
  const shared = store.users.sharedWith(caller.user)
    .map((name) => store.getSession(name))
    .filter((s): s is SessionRow => s !== undefined && s.user !== caller.user)
    .filter((s) => (q.user === undefined || s.user === q.user) && (!q.states || q.states.includes(s.state)))
    .filter((s) => q.dataset === undefined || s.dataset === q.dataset);
  return [...own, ...shared].sort((a, b) => b.seq - a.seq).slice(0, q.limit);
}

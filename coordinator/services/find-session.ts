import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { parseSessionName } from '../../common/names.js';
import type { CoordinatorContext } from '../context.js';
import type { SessionRow } from '../store/types.js';

/** The session named `name`, or NSML_E_INVALID_NAME / NSML_E_SESSION_NOT_FOUND. */
export function findSession(ctx: Pick<CoordinatorContext, 'store'>, name: string): SessionRow {
  parseSessionName(name);
  const s = ctx.store.getSession(name);
  if (!s) throw new NsmlError(ErrorCodes.SESSION_NOT_FOUND, `no session named ${name}; list them with \`nsml ps -a\``);
  return s;
}

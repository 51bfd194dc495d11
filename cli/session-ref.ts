import { echo } from '../common/echo.js';
import { ErrorCodes, NsmlError } from '../common/errors.js';
import { parseSessionName } from '../common/names.js';

const NUMBER = /^[0-9]+$/;

/** The forms that name a session, with examples built from what was typed (`alice/mnist`, `mnist`). */
function forms(parts: string[]): string {
  const [owner, dataset] = parts.length === 2 ? [parts[0] || 'USER', parts[1] || 'scratch'] : ['USER', parts[0] || 'scratch'];
  return `name a session as USER/DATASET/N (e.g. ${owner}/${dataset}/1), or DATASET/N for one of your own (e.g. ${dataset}/1); ` +
    `\`nsml ps -a -d ${dataset}\` lists them with their numbers`;
}

/**
 * A session named on the command line: `USER/DATASET/N`, or `DATASET/N` for one of the
 * caller's own sessions. Validated locally so a typo fails before any call; a name without its
 * number (`alice/mnist`, `mnist`) is refused naming the forms that work.
 */
export function resolveSessionName(text: string, user: string): string {
  const parts = text.split('/');
  const last = parts[parts.length - 1] ?? '';
  if (parts.length <= 2 && !NUMBER.test(last)) {
    throw new NsmlError(ErrorCodes.INVALID_NAME, `${echo(text)} names no session (no session number); ${forms(parts)}`);
  }
  const full = parts.length === 2 ? `${user}/${text}` : text;
  parseSessionName(full);
  return full;
}

/** resolveSessionName, asking the coordinator who the caller is only when the name is short. */
export async function resolveSession(text: string, client: { userName(signal?: AbortSignal): Promise<string> }, signal?: AbortSignal): Promise<string> {
  const short = text.split('/').length === 2 && NUMBER.test(text.split('/')[1]!);
  return resolveSessionName(text, short ? await client.userName(signal) : '');
}

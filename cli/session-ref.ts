import { parseSessionName } from '../common/names.js';

/**
 * A session named on the command line: `USER/DATASET/N`, or `DATASET/N` for one of the
 * caller's own sessions. Validated locally so a typo fails before any call.
 */
export function resolveSessionName(text: string, user: string): string {
  const full = text.split('/').length === 2 ? `${user}/${text}` : text;
  parseSessionName(full);
  return full;
}

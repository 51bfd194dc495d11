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

/** resolveSessionName, asking the coordinator who the caller is only when the name is short. */
export async function resolveSession(text: string, client: { userName(signal?: AbortSignal): Promise<string> }, signal?: AbortSignal): Promise<string> {
  return resolveSessionName(text, text.split('/').length === 2 ? await client.userName(signal) : '');
}

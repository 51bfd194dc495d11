import { readFileSync, statSync } from 'node:fs';
import { ErrorCodes, NsmlError, errorMessage } from '../common/errors.js';

/**
 * Reads the join token from `path` (`nsml agent --join-token-file`), refusing a file that
 * anyone but its owner may read or write (like ssh with a private key) or that belongs to
 * another user: the token admits a node to the cluster. Surrounding whitespace is dropped.
 */
export function readJoinTokenFile(path: string): string {
  let text: string;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new Error('not a regular file');
    if ((info.mode & 0o077) !== 0) {
      throw new NsmlError(ErrorCodes.CONFIG, `the join token file ${path} may be read or written by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
    }
    const me = process.getuid?.() ?? 0;
    if (info.uid !== me && info.uid !== 0) {
      throw new NsmlError(ErrorCodes.CONFIG, `the join token file ${path} belongs to uid ${info.uid}, not to this agent's user (uid ${me}) or root; chown it`);
    }
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof NsmlError) throw err;
    throw new NsmlError(ErrorCodes.CONFIG, `cannot read the join token file ${path} (--join-token-file): ${errorMessage(err)}`, { cause: err });
  }
  if (text === '' || /\s/.test(text)) {
    throw new NsmlError(ErrorCodes.CONFIG, `the join token file ${path} must hold the token alone on one line; it ${text === '' ? 'is empty' : 'holds whitespace inside'}`);
  }
  return text;
}

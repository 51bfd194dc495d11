import { readFileSync, statSync } from 'node:fs';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { validateUser } from '../../common/names.js';

/** How many lines a users file may hold. */
const MAX_LINES = 100_000;

/**
 * Parses a users file (`nsml agent --run-as FILE`): one `NSMLUSER UNIXUSER` pair per line,
 * separated by spaces or tabs; blank lines and lines starting with `#` are ignored. An nsml
 * user named twice, a malformed line or the account `root` is refused, naming the line.
 */
export function parseUsersFile(text: string, path: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw bad(path, 0, `has ${lines.length} lines; at most ${MAX_LINES}`);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/[ \t]+/);
    if (parts.length !== 2) throw bad(path, i + 1, `expected "NSMLUSER UNIXUSER", got ${JSON.stringify(line.slice(0, 80))}`);
    const [user, account] = parts as [string, string];
    try {
      validateUser(user);
    } catch (err) {
      throw bad(path, i + 1, errorMessage(err));
    }
    if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(account) || account.length > 32) {
      throw bad(path, i + 1, `${JSON.stringify(account.slice(0, 40))} is not a Unix account name`);
    }
    if (account === 'root') throw bad(path, i + 1, `maps ${user} to root; user code never runs as root: name an unprivileged account`);
    if (out.has(user)) throw bad(path, i + 1, `names ${user} a second time`);
    out.set(user, account);
  });
  return out;
}

/**
 * Reads the users file, refusing one that another user could change (group- or world-writable,
 * or owned by someone other than root or the agent's user): whoever writes it chooses whose
 * uid each session runs as.
 */
export function readUsersFile(path: string): Map<string, string> {
  let text: string;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new Error('not a regular file');
    if ((info.mode & 0o022) !== 0) {
      throw new NsmlError(ErrorCodes.CONFIG, `the users file ${path} is writable by its group or by everyone (mode ${(info.mode & 0o777).toString(8)}); run chmod go-w ${path}`);
    }
    const me = process.getuid?.() ?? 0;
    if (info.uid !== 0 && info.uid !== me) {
      throw new NsmlError(ErrorCodes.CONFIG, `the users file ${path} belongs to uid ${info.uid}; it must belong to root (or to the agent's user): chown root ${path}`);
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof NsmlError) throw err;
    throw new NsmlError(ErrorCodes.CONFIG, `cannot read the users file ${path} (--run-as): ${errorMessage(err)}`, { cause: err });
  }
  return parseUsersFile(text, path);
}

function bad(path: string, line: number, why: string): NsmlError {
  return new NsmlError(ErrorCodes.CONFIG, `the users file ${path}${line ? ` line ${line}` : ''}: ${why}`);
}

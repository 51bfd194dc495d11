import { spawnSync } from 'node:child_process';

/** A terminal's stdin as raw mode needs it. */
export interface RawCapable {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/** Puts a terminal in raw mode until `restore()`; restore is idempotent. */
export interface RawMode {
  restore(): void;
}

/**
 * Raw mode for `nsml attach` and `exec -t`: keys (Ctrl-C included) go to the remote terminal as
 * bytes, not to this process as signals. The terminal is restored on `restore()`, and on the
 * process's exit whatever path it takes (a second Ctrl-C from elsewhere, an uncaught error).
 */
export function enterRawMode(stdin: RawCapable, proc: Pick<NodeJS.Process, 'once' | 'off'> = process): RawMode {
  if (!stdin.isTTY || !stdin.setRawMode) return { restore: () => {} };
  stdin.setRawMode(true);
  // Node's raw mode keeps the terminal turning "\n" into "\r\n"; the remote pty already did, so
  // output would arrive as "\r\r\n". Turned off here; setRawMode(false) puts back the saved settings.
  noOutputTranslation();
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    proc.off('exit', restore);
    try {
      stdin.setRawMode!(false);
    } catch {
      // the terminal is gone already
    }
  };
  proc.once('exit', restore);
  return { restore };
}

function noOutputTranslation(): void {
  spawnSync('stty', ['-onlcr'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: 2_000 });
}

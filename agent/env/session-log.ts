import { appendFileSync } from 'node:fs';
import { encodeFrame } from '../runner/logs/frames.js';
import type { SessionDir } from '../runner/session-dir.js';

/** Writes lines into a rank's session log before its process starts (the environment build's progress and output). */
export interface SessionLog {
  line(text: string): void;
}

/**
 * Appends stdout frames to the rank's output.log, the file the supervisor continues (O_APPEND,
 * one write per frame, so frames never interleave); the log shipper sends them as any other line.
 * A write that fails (a full disk) is dropped: the build's output is not worth failing the rank.
 */
export function sessionLog(dir: SessionDir, now: () => number = Date.now): SessionLog {
  const file = dir.file('output.log');
  return {
    line(text: string): void {
      try {
        appendFileSync(file, encodeFrame('stdout', now(), `${text}\n`), { mode: 0o600 });
      } catch {
        // dropped (see above)
      }
    },
  };
}

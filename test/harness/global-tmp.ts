import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temp file and folder of the run (tests', the processes they start,
 * Python's) goes under one folder of this run, removed at the end, so that `npm test` leaves
 * nothing in /tmp however a test ends. It is world-traversable (0755) so that the Unix users of
 * the isolation tests can reach their session folders.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'nsml-test-'));
  chmodSync(root, 0o755);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}

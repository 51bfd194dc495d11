import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ErrorCodes, NsmlError } from '../../common/errors.js';

/** What the agent keeps in its data folder and who may reach it when sessions run as other users. */
const TRAVERSABLE = new Set(['sessions', 'envs', 'nfs-output', 'cache']); // envs, nfs-output, cache: agent/env

/**
 * Makes the agent's data folder root's alone, but for the path to each session's folder:
 * the data folder and `sessions/` (and `sessions/.sock/`) are 0711 — a session's user can pass
 * through to its own folder, never list them — every other folder (the blob cache, the dataset
 * cache) is 0700 and every file (node-secret, node-id, the lock) 0600. Run at start, as root.
 */
export function hardenDataDir(dataDir: string): void {
  chmodSync(dataDir, 0o711);
  mkdirSync(join(dataDir, 'sessions', '.sock'), { recursive: true });
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    const info = lstatSync(path);
    if (info.isDirectory()) chmodSync(path, TRAVERSABLE.has(name) ? 0o711 : 0o700);
    else if (info.isFile()) chmodSync(path, 0o600);
  }
  chmodSync(join(dataDir, 'sessions', '.sock'), 0o711);
}

/** What a session's user must reach on this node. */
export interface ReachNeeds {
  /** The agent's `sessions/` folder: every folder above it must let the user pass. */
  sessionsDir: string;
  /** The Python that runs `.py` entries, as the agent names it (a PATH lookup for the user). */
  python: string;
  /** The bundled SDK (`<sdkPath>/nsml`). */
  sdkPath: string;
}

const PROBE = [
  'import os, sys',
  'sessions, sdk = sys.argv[1], sys.argv[2]',
  'bad = []',
  'if not os.access(sessions, os.X_OK): bad.append(sessions + " (a folder above it, or it, does not let the user pass: chmod o+x)")',
  'pkg = os.path.join(sdk, "nsml", "__init__.py")',
  'if not os.access(pkg, os.R_OK): bad.append(pkg + " (the bundled SDK is not readable: chmod -R o+rX, and o+x on the folders above)")',
  'print("\\n".join(bad))',
].join('\n');

/**
 * Runs a probe as `uid:gid` (a session's user, or 65534 standing for any account the agent
 * creates) and refuses to start, with NSML_E_CONFIG naming each path, when that user could not
 * run a session: the Python cannot be run, the sessions folder cannot be reached (e.g. the data
 * folder is under a 0700 home), or the SDK cannot be read.
 */
export async function checkReach(needs: ReachNeeds, as: { uid: number; gid: number; label: string }): Promise<void> {
  const r = await execa(needs.python, ['-S', '-c', PROBE, needs.sessionsDir, needs.sdkPath], {
    uid: as.uid, gid: as.gid, cwd: '/', reject: false, timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, extendEnv: false,
  });
  const fix = 'fix the permissions, or start the agent with a --data folder (and a Python) that unprivileged users can reach';
  if (r.exitCode !== 0) {
    const why = String(r.stderr).trim().split('\n').slice(-2).join(' ') || String(r.message);
    throw new NsmlError(ErrorCodes.CONFIG, `sessions run as ${as.label}, who cannot run ${needs.python} (${why}); ${fix}`);
  }
  const bad = String(r.stdout).trim();
  if (bad !== '') throw new NsmlError(ErrorCodes.CONFIG, `sessions run as ${as.label}, who cannot reach ${bad.split('\n').join('; ')}; ${fix}`);
}

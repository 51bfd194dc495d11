import { execa } from 'execa';
import { readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { versionMatches } from '../../common/session-runtime.js';

export { checkPythonVersion, versionMatches } from '../../common/session-runtime.js';

/** A Python this node offers sessions. */
export interface Interpreter {
  /** What runs it: sys.executable as the interpreter itself reports it. */
  path: string;
  /** `X.Y.Z`. */
  version: string;
}

const PYTHON_NAME = /^python3(\.\d+)?$/;
const PROBE = 'import sys;print(sys.executable);print("%d.%d.%d" % sys.version_info[:3])';

/** Asks `command` what it is; undefined when it does not run (a pyenv shim of an absent version, say). */
export async function probeInterpreter(command: string): Promise<Interpreter | undefined> {
  const r = await execa(command, ['-S', '-c', PROBE], { reject: false, timeout: 5_000 });
  if (r.exitCode !== 0) return undefined;
  const [path, version] = String(r.stdout).trim().split('\n');
  if (!path || !version || !/^\d+\.\d+\.\d+$/.test(version)) return undefined;
  return { path, version };
}

/** `python3` and `python3.X` in the folders of PATH, in PATH order. */
export function pythonsOnPath(pathEnv: string | undefined): string[] {
  const out: string[] = [];
  for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.filter((x) => PYTHON_NAME.test(x)).sort()) out.push(join(dir, n));
  }
  return out;
}

/** The path with links resolved; the path itself when it cannot be resolved. */
export function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The Pythons this node offers: the admin's list (`--pythons`) first, then python3 and python3.X
 * found on PATH; each asked its version, one per executable, those that do not run left out.
 */
export async function discoverPythons(o: { extra: readonly string[]; pathEnv: string | undefined }): Promise<Interpreter[]> {
  const found = await Promise.all([...o.extra, ...pythonsOnPath(o.pathEnv)].map((c) => probeInterpreter(c)));
  const seen = new Set<string>();
  const out: Interpreter[] = [];
  for (const i of found) {
    if (!i) continue;
    const real = realOrSelf(i.path);
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(i);
  }
  return out;
}

/** The interpreter for a session that asks for `wanted` ('' for the node's default). */
export function choosePython(offered: readonly Interpreter[], wanted: string, fallback: Interpreter): Interpreter {
  if (wanted === '') return fallback;
  if (versionMatches(fallback.version, wanted)) return fallback;
  const hit = offered.find((i) => versionMatches(i.version, wanted));
  if (hit) return hit;
  const list = offered.map((i) => i.version).join(', ') || 'none';
  throw new NsmlError(
    ErrorCodes.PYTHON_UNAVAILABLE,
    `the session asks for Python ${wanted} and this node offers ${list}; run it with one of those (nsml run --python X.Y), or start the agent with --pythons /path/to/python${wanted}`,
  );
}

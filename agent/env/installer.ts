import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A command line: what runs, with which arguments. */
export interface Command {
  file: string;
  args: string[];
}

/** The first executable `name` in the folders of PATH; undefined when there is none. */
export function findOnPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * How the packages get into the virtual environment at `venvPython`: `uv pip install` when uv
 * is on the node (much faster), else the pip the interpreter sees (the node's, through
 * --system-site-packages). Options in requirements.txt (--no-index, --find-links) apply to both.
 */
export function installCommand(o: { uv: string | undefined; venvPython: string; installArgs: string[] }): Command {
  if (o.uv) return { file: o.uv, args: ['pip', 'install', '--python', o.venvPython, ...o.installArgs] };
  return { file: o.venvPython, args: ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...o.installArgs] };
}

/** Creates the virtual environment itself (no pip of its own: the node's is seen). */
export function venvCommand(python: string, dir: string): Command {
  return { file: python, args: ['-m', 'venv', '--without-pip', '--system-site-packages', dir] };
}

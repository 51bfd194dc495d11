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

/**
 * Run by the node's interpreter once the environment exists: when that interpreter is itself a
 * virtual environment (an admin's /opt/torch-venv/bin/python3), `--system-site-packages` shows
 * only its base Python's packages, not its own, so its site-packages are added to the new
 * environment with a `.pth` file (after the environment's own folders: what a session installs
 * wins). A plain interpreter writes nothing.
 */
export function nodeSiteCommand(python: string, dir: string): Command {
  return { file: python, args: ['-c', NODE_SITE, dir] };
}

const NODE_SITE = `import glob, os, site, sys
if sys.prefix != sys.base_prefix:
    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    [target] = glob.glob(os.path.join(sys.argv[1], "lib", "python*", "site-packages"))
    with open(os.path.join(target, "_nsml_node_site.pth"), "x") as f:
        f.write("".join(p + "\\n" for p in paths))
    print("nsml: the node's packages in " + ", ".join(paths) + " are seen by this environment")
`;

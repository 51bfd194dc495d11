import { mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { handOver } from '../run-as/ownership.js';
import type { RunAsUser } from '../run-as/run-as-user.js';
import type { RankContext } from '../runner/rank-context.js';
import { rankKeyString } from '../runner/rank-spec.js';
import { readDeclaration } from './declaration.js';
import { envKey } from './env-key.js';
import type { Environments } from './environments.js';
import { installCommand, nodeSiteCommand, venvCommand } from './installer.js';
import { choosePython } from './interpreters.js';
import { sessionLog } from './session-log.js';
import { buildVenv } from './venv-build.js';

/** What the environment hook hands to prestart. */
export interface PreparedEnv {
  /** What runs a `.py` entry: the environment's python, or the chosen interpreter. */
  python: string;
  /** Variables set over the session's: VIRTUAL_ENV and PATH with the environment's bin first. */
  env: Record<string, string>;
  /** The image to run in (podman or docker); undefined: the node's own Python. */
  image: string | undefined;
}

/**
 * Part of prestart (the environment hook): picks the interpreter (`--python`), reads what the
 * workspace declares (requirements.txt, setup.py, pyproject.toml; never executing them) and
 * gets the cached virtual environment for it, building it once, with progress and the
 * installer's output in the session log. An image (`--image`, or setup.py's `#nsml:` header)
 * runs the session in a container where the node has a runtime. No declaration: no environment.
 */
export async function prepareEnvironment(ctx: RankContext, pathEnv: string, user?: RunAsUser): Promise<PreparedEnv> {
  const envs = ctx.deps.environments;
  const spec = ctx.spec;
  if (!envs) {
    if (spec.python || spec.image) throw new NsmlError(ErrorCodes.PYTHON_UNAVAILABLE, 'this agent cannot choose a Python or an image for a session; upgrade the agent');
    return { python: ctx.deps.python, env: {}, image: undefined };
  }
  const log = sessionLog(ctx.dir, () => ctx.deps.clock.now());
  const python = choosePython(envs.pythons, spec.python ?? '', envs.defaultPython);
  const decl = await readDeclaration(ctx.dir.workspace, envs.defaultPython.path, ctx.signal);
  for (const w of decl.warnings) log.line(`nsml: ${w}`);
  const image = spec.image || decl.header || undefined;
  if (image) {
    if (envs.containers) return { python: 'python3', env: {}, image };
    if (spec.image) throw noRuntime(spec.image);
    if (envs.requireImages) throw noRuntime(image, 'setup.py names it (#nsml:) and this agent runs with --require-images');
    log.line(`nsml: this node has no container runtime; ignoring the image ${image} named in setup.py`);
  }
  const usePython = spec.python ? python.path : ctx.deps.python;
  if (!decl.requirements) return { python: usePython, env: {}, image: undefined };
  const req = decl.requirements;
  const key = envKey(req, python, user?.name);
  const started = ctx.deps.clock.now();
  const grant = await envs.cache.acquire({
    useKey: rankKeyString(spec), root: ctx.dir.root, key,
    build: async (dir) => {
      log.line(`nsml: building environment ${key} (${req.count} requirement${req.count === 1 ? '' : 's'})…`);
      if (user) {
        // Built by the session's own account, never root: a package's build code runs as that user.
        await mkdir(dir, { mode: 0o755 });
        await handOver(dir, user, 0o755);
      }
      await buildVenv({
        ...(user ? { user, env: { HOME: ctx.dir.home, PIP_NO_CACHE_DIR: '1' } } : {}),
        venv: venvCommand(python.path, dir),
        nodeSite: nodeSiteCommand(python.path, dir),
        install: installCommand({ uv: envs.uv, venvPython: join(dir, 'bin', 'python'), installArgs: req.installArgs }),
        cwd: ctx.dir.workspace, onLine: (l) => log.line(l), signal: ctx.signal,
      });
    },
  });
  if (grant.how === 'cached') log.line(`nsml: environment ${key} cached`);
  else if (grant.how === 'shared') log.line(`nsml: environment ${key} built by another session starting at the same time (waited ${((ctx.deps.clock.now() - started) / 1000).toFixed(1)} s)`);
  else log.line(`nsml: environment ${key} ready in ${((ctx.deps.clock.now() - started) / 1000).toFixed(1)} s`);
  const bin = join(grant.path, 'bin');
  return { python: join(bin, 'python'), env: { VIRTUAL_ENV: grant.path, PATH: [bin, pathEnv].filter(Boolean).join(delimiter) }, image: undefined };
}

function noRuntime(image: string, why = 'the session asks for it (--image)'): NsmlError {
  return new NsmlError(
    ErrorCodes.NO_CONTAINER_RUNTIME,
    `cannot run in the image ${image}: ${why} and this node has no container runtime (podman or docker); install podman on the node, or run without --image`,
  );
}

/** Part of cleanup: the rank no longer holds its environment (it may be evicted). */
export function releaseEnvironment(ctx: Pick<RankContext, 'spec' | 'deps'>): void {
  ctx.deps.environments?.cache.release(rankKeyString(ctx.spec));
}

import { mkdir, readdir, stat } from 'node:fs/promises';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { datasetEnv } from '../datasets/dataset-env.js';
import { insideWorkspace } from './materialize.js';
import type { Launch, RankContext } from './rank-context.js';
import { sessionEnv } from './session-env.js';
import { giveToUser } from './session-user.js';
import { wrapInContainer } from '../env/container-wrap.js';
import { noteLimits } from '../env/limits-note.js';
import { prepareEnvironment } from '../env/runner-hooks.js';
import { prepareSessionOutputs } from '../env/session-outputs.js';

/** How many workspace files an entry-not-found message lists. */
const LISTED = 8;

/**
 * Hook 2: checks that the entry exists in the workspace and prepares the command line and
 * environment. A `.py` entry runs with the agent's Python; any other entry must be executable.
 * When sessions run as their users (agent/run-as), the rank's folders are handed to its user
 * last (session-user.ts), after every check was made on folders only root could reach.
 */
export async function prestart(ctx: RankContext): Promise<Launch> {
  const { spec, dir, deps } = ctx;
  const entryPath = insideWorkspace(dir.workspace, spec.entry);
  const info = await stat(entryPath).catch(() => undefined);
  if (!info?.isFile()) throw await entryNotFound(dir.workspace, spec.entry);
  const isPython = spec.entry.endsWith('.py');
  if (!isPython && (info.mode & 0o111) === 0) {
    throw new NsmlError(
      ErrorCodes.ENTRY_NOT_FOUND,
      `entry ${spec.entry} is neither a .py script nor executable; make it executable (chmod +x) or use a Python entry`,
    );
  }
  await mkdir(dir.checkpoints, { recursive: true });
  const env = {
    ...sessionEnv(spec, { checkpointDir: dir.checkpoints, socket: dir.socket, telemetry: dir.telemetry }, {
      base: deps.baseEnv, sdkPath: deps.sdkPath, gpuDevice: (i) => deps.gpuDevice(i),
    }),
    ...datasetEnv(spec.datasets, dir.root), // datasets hook: NSML_DATASET_PATH, DATASET_PATH, HAS_DATASET, ...
  };
  const user = deps.sessionUsers ? await deps.sessionUsers.resolve(spec.user) : undefined; // agent/run-as: never root
  if (user) await giveToUser(dir, user); // before the environment: its installer runs as the user, in the workspace
  const prepared = await prepareEnvironment(ctx, env.PATH ?? '', user); // agent/env: interpreter, cached venv, image
  Object.assign(env, prepared.env);
  const argv = isPython ? [prepared.python, spec.entry, ...spec.args] : [entryPath, ...spec.args];
  if (deps.environments) Object.assign(env, await prepareSessionOutputs(deps.environments.dataDir, spec.session, user));
  const launch: Launch = !user
    ? { argv, cwd: dir.workspace, env }
    : { argv, cwd: dir.workspace, env: { ...env, HOME: dir.home, USER: user.name, LOGNAME: user.name }, user };
  const runtime = deps.environments?.containers;
  if (prepared.image && runtime) return wrapInContainer(ctx, launch, runtime, prepared.image);
  noteLimits(ctx);
  return launch;
}

async function entryNotFound(root: string, entry: string): Promise<NsmlError> {
  const names = await readdir(root).catch(() => [] as string[]);
  const shown = names.sort().slice(0, LISTED);
  const listing = shown.length === 0
    ? 'the workspace is empty'
    : `the workspace holds ${shown.join(', ')}${names.length > LISTED ? `, … (${names.length} in all)` : ''}`;
  return new NsmlError(
    ErrorCodes.ENTRY_NOT_FOUND,
    `entry ${entry} is not in the workspace (${listing}); pass the script to run with -e, e.g. nsml run -e train.py`,
  );
}

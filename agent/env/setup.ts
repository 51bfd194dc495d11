import { join } from 'node:path';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import { detectContainerRuntime } from './container-runtime.js';
import { EnvCache } from './env-cache.js';
import type { Environments } from './environments.js';
import { findOnPath } from './installer.js';
import { discoverPythons, probeInterpreter, realOrSelf, type Interpreter } from './interpreters.js';

export interface EnvSetupOptions {
  dataDir: string;
  /** The agent's --python: the default interpreter. */
  python: string;
  /** The agent's --pythons. */
  pythons: string[];
  envCacheBytes: number;
  requireImages: boolean;
  /** 'none' turns images off; a name or path picks the runtime; undefined: detected. */
  containerRuntime: string | undefined;
  pathEnv: string | undefined;
  logger: Logger;
  clock: Clock;
}

/** Finds what this node offers sessions (Pythons, uv, a container runtime) and opens the environment cache. */
export async function setUpEnvironments(o: EnvSetupOptions): Promise<Environments> {
  const [probed, found, containers] = await Promise.all([
    probeInterpreter(o.python),
    discoverPythons({ extra: o.pythons, pathEnv: o.pathEnv }),
    o.containerRuntime === 'none' ? Promise.resolve(undefined) : detectContainerRuntime({ pathEnv: o.pathEnv, explicit: o.containerRuntime }),
  ]);
  if (!probed) o.logger.warn('the default Python does not run; sessions with .py entries will fail to start', { python: o.python });
  const defaultPython: Interpreter = probed ?? { path: o.python, version: '' };
  const pythons = [defaultPython, ...found.filter((i) => realOrSelf(i.path) !== realOrSelf(defaultPython.path))].filter((i) => i.version !== '');
  const uv = findOnPath('uv', o.pathEnv);
  o.logger.info('session environments', { pythons: pythons.map((i) => `${i.version} ${i.path}`), installer: uv ?? 'pip', containers: containers?.path ?? 'none' });
  return {
    defaultPython, pythons, uv, containers, requireImages: o.requireImages, dataDir: o.dataDir,
    cache: EnvCache.open({ dir: join(o.dataDir, 'envs'), budgetBytes: o.envCacheBytes, clock: o.clock, logger: o.logger }),
  };
}

import type { EnvCache } from './env-cache.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { Interpreter } from './interpreters.js';

/** What the runner's environment hook needs from the agent (RunnerDeps.environments). */
export interface Environments {
  /** The interpreter `.py` entries run with when a session asks for no version (the agent's --python). */
  defaultPython: Interpreter;
  /** Every Python this node offers (--pythons and python3.X on PATH). */
  pythons: Interpreter[];
  /** Built virtual environments, by declaration hash. */
  cache: EnvCache;
  /** uv, when on the node's PATH: installs with it instead of pip. */
  uv: string | undefined;
  /** podman or docker; undefined: images cannot run here. */
  containers: ContainerRuntime | undefined;
  /** Fail a session whose setup.py names an image (`#nsml: IMAGE`) when there is no runtime, instead of warning. */
  requireImages: boolean;
  /** The agent's data folder: nfs-output/ and cache/ are under it. */
  dataDir: string;
}

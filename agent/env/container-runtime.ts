import { execa } from 'execa';
import { basename } from 'node:path';
import { findOnPath } from './installer.js';

/** A container runtime the node offers sessions (`nsml run --image`, the `#nsml: IMAGE` header). */
export interface ContainerRuntime {
  /** 'podman' or 'docker'. */
  kind: 'podman' | 'docker';
  /** Its executable. */
  path: string;
}

/** Runs a command, answers whether it exited 0 (the I/O boundary of detection; tests pass a fake). */
export type Probe = (file: string, args: string[]) => Promise<boolean>;

const realProbe: Probe = async (file, args) => (await execa(file, args, { reject: false, timeout: 5_000, stdin: 'ignore' })).exitCode === 0;

/**
 * The runtime sessions may use: podman (daemonless) when `podman --version` runs, else docker
 * when its daemon answers (`docker version` reaches the server); undefined when neither.
 * `explicit` (the agent's --container-runtime) names one and skips the search.
 */
export async function detectContainerRuntime(o: { pathEnv: string | undefined; explicit?: string; probe?: Probe }): Promise<ContainerRuntime | undefined> {
  const probe = o.probe ?? realProbe;
  const candidates = o.explicit ? [o.explicit] : ['podman', 'docker'];
  for (const name of candidates) {
    const path = name.includes('/') ? name : findOnPath(name, o.pathEnv);
    if (!path) continue;
    const kind = basename(path).startsWith('docker') ? 'docker' : 'podman';
    const ok = kind === 'podman' ? await probe(path, ['--version']) : await probe(path, ['version', '--format', '{{.Server.Version}}']);
    if (ok) return { kind, path };
  }
  return undefined;
}

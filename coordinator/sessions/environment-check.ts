import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { SubmitRequest__Output } from '../../common/proto/types.js';
import { checkImage, checkPythonVersion, checkShmSizeMib, versionMatches, type SessionRuntime } from '../../common/session-runtime.js';
import type { NodeRow } from '../store/types.js';

/**
 * Validates a Submit's environment fields (python, image, shm_size_mib) and refuses at once a
 * session no joined node could run: a Python version no node offers (NSML_E_PYTHON_UNAVAILABLE),
 * an image with no node that has a container runtime (NSML_E_NO_CONTAINER_RUNTIME). With no node
 * joined yet, nothing is refused (the session waits). The agent checks again where it lands.
 */
export function checkEnvironmentRequest(req: Pick<SubmitRequest__Output, 'python' | 'image' | 'shmSizeMib'>, nodes: NodeRow[]): SessionRuntime {
  const runtime: SessionRuntime = {
    python: checkPythonVersion(req.python ?? ''), image: checkImage(req.image ?? ''), shmSizeMib: checkShmSizeMib(Number(req.shmSizeMib ?? 0)),
  };
  const up = nodes.filter((n) => n.state !== 'down');
  if (up.length === 0) return runtime;
  if (runtime.python) {
    const offered = [...new Set(up.flatMap((n) => n.inventory.pythons ?? []))].sort();
    if (!offered.some((v) => versionMatches(v, runtime.python))) {
      throw new NsmlError(
        ErrorCodes.PYTHON_UNAVAILABLE,
        `no node offers Python ${runtime.python} (offered: ${offered.join(', ') || 'none reported'}); pick one of those with --python, or have an admin start an agent with --pythons /path/to/python${runtime.python}`,
      );
    }
  }
  if (runtime.image && !up.some((n) => n.inventory.containerRuntime)) {
    throw new NsmlError(
      ErrorCodes.NO_CONTAINER_RUNTIME,
      `--image ${runtime.image}: no node has a container runtime (podman or docker); run without --image (the workspace's requirements.txt is installed on the node), or install podman on a node`,
    );
  }
  return runtime;
}

/** The runtime of a session as the agent gets it in StartSession (17-21). */
export function startRuntimeFields(s: { runtime?: SessionRuntime; cpus: number; memoryMib: number }): {
  python: string; image: string; shmSizeMib: number; cpus: number; memoryMib: number;
} {
  return { python: s.runtime?.python ?? '', image: s.runtime?.image ?? '', shmSizeMib: s.runtime?.shmSizeMib ?? 0, cpus: s.cpus, memoryMib: s.memoryMib };
}

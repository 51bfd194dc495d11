import { describe, expect, it } from 'vitest';
import type { NodeRow } from '../store/types.js';
import { checkEnvironmentRequest, startRuntimeFields } from './environment-check.js';

function node(pythons: string[], containerRuntime = '', state: NodeRow['state'] = 'ready'): NodeRow {
  return { id: 'n', state, inventory: { pythons, containerRuntime } } as unknown as NodeRow;
}
const req = (over: { python?: string; image?: string; shmSizeMib?: number } = {}) => ({ python: '', image: '', shmSizeMib: 0, ...over });

describe('checkEnvironmentRequest', () => {
  it('accepts what some node offers', () => {
    expect(checkEnvironmentRequest(req({ python: '3.11' }), [node(['3.10.4']), node(['3.11.7'])])).toEqual({ python: '3.11', image: '', shmSizeMib: 0 });
    expect(checkEnvironmentRequest(req({ image: 'localhost/py:1', shmSizeMib: 512 }), [node([], 'podman')])).toMatchObject({ image: 'localhost/py:1', shmSizeMib: 512 });
  });

  it('lets a session wait when no node has joined yet', () => {
    expect(checkEnvironmentRequest(req({ python: '3.13', image: 'x' }), [])).toMatchObject({ python: '3.13', image: 'x' });
  });

  it.each([
    ['a Python no node offers', req({ python: '3.9' }), [node(['3.11.7', '3.12.1'])], 'NSML_E_PYTHON_UNAVAILABLE', /no node offers Python 3\.9 \(offered: 3\.11\.7, 3\.12\.1\)/],
    ['a Python only a down node offers', req({ python: '3.9' }), [node(['3.9.1'], '', 'down'), node(['3.11.7'])], 'NSML_E_PYTHON_UNAVAILABLE', /offered: 3\.11\.7/],
    ['an image with no runtime anywhere', req({ image: 'localhost/py:1' }), [node(['3.11.7'])], 'NSML_E_NO_CONTAINER_RUNTIME', /no node has a container runtime/],
    ['a malformed version', req({ python: '3.x' }), [], 'NSML_E_INVALID_ARGUMENT', /--python takes a version/],
    ['a huge shm', req({ shmSizeMib: 1e12 }), [], 'NSML_E_INVALID_ARGUMENT', /shm_size_mib must be an integer/],
  ])('refuses %s', (_what, r, nodes, code, message) => {
    let err: unknown;
    try {
      checkEnvironmentRequest(r, nodes);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(message);
  });

  it('fills the StartSession fields', () => {
    expect(startRuntimeFields({ cpus: 2, memoryMib: 100 })).toEqual({ python: '', image: '', shmSizeMib: 0, cpus: 2, memoryMib: 100 });
    expect(startRuntimeFields({ runtime: { python: '3.11', image: 'i', shmSizeMib: 5 }, cpus: 0, memoryMib: 0 })).toMatchObject({ python: '3.11', image: 'i', shmSizeMib: 5 });
  });
});

import { describe, expect, it } from 'vitest';
import { containerArgv, containerCudaDevices, type ContainerSpec } from './container-launch.js';

const spec: ContainerSpec = {
  image: 'localhost/py:1', argv: ['python3', 'main.py', '--lr', '0.1'], cwd: '/d/s/r/workspace', envNames: ['NSML_SESSION', 'PYTHONPATH'],
  mounts: [{ path: '/d/s/r', readOnly: false }, { path: '/sdk', readOnly: true }], gpus: [2, 3], cpus: 4, memoryMib: 8192, shmSizeMib: 2048, name: 'nsml-abc',
};

describe('containerArgv', () => {
  it('runs podman with the GPUs as CDI devices, mounts at the same paths, limits, env by name', () => {
    expect(containerArgv({ kind: 'podman', path: '/usr/bin/podman' }, spec)).toEqual([
      '/usr/bin/podman', 'run', '--rm', '--network', 'host', '--name', 'nsml-abc', '-w', '/d/s/r/workspace',
      '-v', '/d/s/r:/d/s/r', '-v', '/sdk:/sdk:ro', '-e', 'NSML_SESSION', '-e', 'PYTHONPATH',
      '--device', 'nvidia.com/gpu=2', '--device', 'nvidia.com/gpu=3',
      '--cpus', '4', '--memory', '8192m', '--shm-size', '2048m', 'localhost/py:1', 'python3', 'main.py', '--lr', '0.1',
    ]);
  });

  it('runs docker with --gpus and the session user, and no limit flags when none were asked', () => {
    const argv = containerArgv({ kind: 'docker', path: 'docker' }, { ...spec, cpus: 0, memoryMib: 0, shmSizeMib: 0, user: { uid: 1001, gid: 1001 } });
    expect(argv).toContain('"device=2,3"');
    expect(argv.slice(argv.indexOf('--user'), argv.indexOf('--user') + 2)).toEqual(['--user', '1001:1001']);
    expect(argv).not.toContain('--memory');
  });

  it('numbers the GPUs from 0 inside', () => expect(containerCudaDevices([5, 7])).toBe('0,1'));
});

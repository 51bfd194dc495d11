import { describe, expect, it } from 'vitest';
import { versionMatches } from '../../common/session-runtime.js';
import { neededTags, offeredTags } from './environment-tags.js';

describe('environment tags', () => {
  it.each([
    { inventory: { pythons: ['3.11.7'], containerRuntime: '' }, tags: ['python3', 'python3.11', 'python3.11.7'] },
    { inventory: { pythons: ['3.10.12', '3.11.7'], containerRuntime: 'podman' }, tags: ['python3', 'python3.10', 'python3.10.12', 'python3.11', 'python3.11.7', 'containers'] },
    { inventory: { pythons: [], containerRuntime: 'docker' }, tags: ['containers'] },
    { inventory: {}, tags: [] },
  ])('a node with $inventory offers $tags', ({ inventory, tags }) => {
    expect(offeredTags(inventory)).toEqual(tags);
  });

  it.each([
    { runtime: undefined, tags: [] },
    { runtime: { python: '', image: '', shmSizeMib: 0 }, tags: [] },
    { runtime: { python: '3.11', image: '', shmSizeMib: 0 }, tags: ['python3.11'] },
    { runtime: { python: '3', image: 'docker.io/pytorch/pytorch:2.3.0', shmSizeMib: 0 }, tags: ['python3', 'containers'] },
  ])('a session with $runtime needs $tags', ({ runtime, tags }) => {
    expect(neededTags(runtime)).toEqual(tags);
  });

  it.each([
    ['3.11.7', '3.11'], ['3.11.7', '3'], ['3.11.7', '3.11.7'], ['3.11.7', '3.1'], ['3.1.2', '3.11'], ['3.10.4', '3.1'], ['3.11.7', '3.11.8'],
  ])('matches %s against --python %s exactly as versionMatches does', (version, wanted) => {
    const [need] = neededTags({ python: wanted, image: '', shmSizeMib: 0 });
    expect(offeredTags({ pythons: [version] }).includes(need!)).toBe(versionMatches(version, wanted));
  });
});

import { describe, expect, it } from 'vitest';
import { environmentFromStart } from './start-fields.js';

const base = { python: '', image: '', shmSizeMib: 0, cpus: 0, memoryMib: 0 };

describe('environmentFromStart', () => {
  it('keeps only the fields set', () => {
    expect(environmentFromStart(base)).toEqual({});
    expect(environmentFromStart({ ...base, python: '3.11', image: 'localhost/py:1', shmSizeMib: 64, cpus: 2, memoryMib: 512 }))
      .toEqual({ python: '3.11', image: 'localhost/py:1', shmSizeMib: 64, cpus: 2, memoryMib: 512 });
  });

  it.each([
    [{ python: 'python3; rm -rf /' }, /--python takes a version such as 3\.11/],
    [{ image: '--privileged' }, /--image takes an image reference/],
    [{ image: 'a b' }, /--image takes an image reference/],
    [{ memoryMib: -1 }, /memory_mib must be a non-negative integer/],
  ])('refuses %j', (over, message) => {
    expect(() => environmentFromStart({ ...base, ...over })).toThrow(message);
  });
});

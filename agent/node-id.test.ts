import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateNodeId, loadNodeId, validateNodeId } from './node-id.js';

describe('node id', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'nsml-nodeid-'));
    dirs.push(d);
    return d;
  };

  it('is generated once and kept', () => {
    const dir = temp();
    const id = loadNodeId(dir);
    expect(loadNodeId(dir)).toBe(id);
    expect(readFileSync(join(dir, 'node-id'), 'utf8').trim()).toBe(id);
  });

  it('takes an explicit id and keeps it for later starts', () => {
    const dir = temp();
    loadNodeId(dir);
    expect(loadNodeId(dir, 'gpu-01')).toBe('gpu-01');
    expect(loadNodeId(dir)).toBe('gpu-01');
  });

  it.each([
    ['My Host.local', /^my-host\.local-[0-9a-f]{6}$/],
    ['___', /^node-[0-9a-f]{6}$/],
  ])('derives a valid id from the host name %j', (host, pattern) => {
    expect(generateNodeId(host)).toMatch(pattern);
  });

  it.each(['', '-x', 'a/b', 'a b', 'x'.repeat(65)])('rejects %j', (id) => {
    expect(() => validateNodeId(id)).toThrow(/invalid node id/);
  });
});

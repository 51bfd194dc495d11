import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../common/hashing.js';
import { RunnerFixture } from '../testing/runner-fixture.js';
import { insideWorkspace, materialize } from './materialize.js';
import type { RankContext } from './rank-context.js';
import { SessionDir } from './session-dir.js';

describe('materialize', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  function ctx(workspace: string, deps = f.deps()): RankContext {
    return { spec: f.spec({ workspace }), dir: new SessionDir(join(f.dir, 'rank')), deps, signal: new AbortController().signal };
  }

  it('links every file from the blob cache into the workspace, read-only, keeping execute bits', async () => {
    f = new RunnerFixture();
    const ws = f.workspace({ 'main.py': 'print(1)\n', 'lib/deep/util.py': 'X = 1\n', 'run.sh': ['#!/bin/sh\n', 0o755], 'copy.py': 'print(1)\n' });
    const c = ctx(ws);
    await materialize(c);
    const root = c.dir.workspace;
    expect(readFileSync(join(root, 'lib/deep/util.py'), 'utf8')).toBe('X = 1\n');
    expect(statSync(join(root, 'main.py')).mode & 0o777).toBe(0o444);
    expect(statSync(join(root, 'run.sh')).mode & 0o777).toBe(0o555);
    const cached = c.deps.cache.path(sha256('print(1)\n'));
    expect(statSync(join(root, 'main.py')).ino).toBe(statSync(cached).ino);
    expect(statSync(join(root, 'copy.py')).ino).toBe(statSync(cached).ino);
  });

  it('fetches each blob once, also across workspaces', async () => {
    f = new RunnerFixture();
    const deps = f.deps();
    const ws = f.workspace({ 'a.py': 'same\n', 'b.py': 'same\n' });
    await materialize(ctx(ws, deps));
    await materialize({ ...ctx(ws, deps), dir: new SessionDir(join(f.dir, 'rank2')) });
    expect(f.source.fetches.filter((h) => h === sha256('same\n'))).toHaveLength(1);
  });

  it('gives one blob different modes without one link changing the other', async () => {
    f = new RunnerFixture();
    const c = ctx(f.workspace({ 'tool': ['#!/bin/sh\n', 0o755], 'notes.txt': ['#!/bin/sh\n', 0o644] }));
    await materialize(c);
    expect(statSync(join(c.dir.workspace, 'tool')).mode & 0o777).toBe(0o555);
    expect(statSync(join(c.dir.workspace, 'notes.txt')).mode & 0o777).toBe(0o444);
  });

  it('makes an empty workspace for an empty manifest hash', async () => {
    f = new RunnerFixture();
    const c = ctx('');
    await materialize(c);
    expect(statSync(c.dir.workspace).isDirectory()).toBe(true);
  });

  it.each([
    ['a path that leaves the workspace', { path: '../escape.py' }, /NSML_E_INVALID_NAME|leaves|relative path/],
    ['an absolute path', { path: '/etc/passwd' }, /relative path/],
  ])('rejects %s', async (_what, entry, message) => {
    f = new RunnerFixture();
    const data = Buffer.from('x');
    f.source.add(sha256(data), data);
    const manifest = Buffer.from(JSON.stringify({ version: 1, entries: [{ mode: 0o644, size: 1, hash: sha256(data), ...entry }] }));
    f.source.add(sha256(manifest), manifest);
    await expect(materialize(ctx(sha256(manifest)))).rejects.toThrow(message);
  });

  it('rejects a file that is also a folder of another file', async () => {
    f = new RunnerFixture();
    const c = ctx(f.workspace({ a: 'file\n', 'a/b.py': 'inside\n' }));
    await expect(materialize(c)).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_INVALID' });
  });

  it('rejects a blob whose content does not match its hash', async () => {
    f = new RunnerFixture();
    const ws = f.workspace({ 'main.py': 'real\n' });
    f.source.add(sha256('real\n'), Buffer.from('tampered\n'));
    await expect(materialize(ctx(ws))).rejects.toMatchObject({ code: 'NSML_E_BLOB_CORRUPT' });
  });

  it('says which blob is missing', async () => {
    f = new RunnerFixture();
    const ws = f.workspace({ 'main.py': 'gone\n' });
    f.source.blobs.delete(sha256('gone\n'));
    await expect(materialize(ctx(ws))).rejects.toThrow(sha256('gone\n'));
  });

  it('insideWorkspace refuses to resolve outside the root', () => {
    expect(() => insideWorkspace('/ws', '../x')).toThrow(/leaves the workspace/);
    expect(insideWorkspace('/ws', 'a/b')).toBe('/ws/a/b');
  });
});

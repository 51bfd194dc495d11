import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeManifest } from '../../common/manifest.js';
import { sha256, sha256File } from '../../common/hashing.js';
import { checkEntry, packWorkspace } from './pack.js';

let dir: string;
let root: string;
let cacheDir: string;

function write(path: string, text: string): void {
  const abs = join(root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

/** Moves every mtime back, so the hash cache trusts the files (see RACY_WINDOW_MS). */
function age(paths: string[]): void {
  const past = new Date(Date.now() - 60_000);
  for (const p of paths) utimesSync(join(root, p), past, past);
}

async function paths(): Promise<string[]> {
  return (await packWorkspace({ root })).entries.map((e) => e.path);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-pack-'));
  root = join(dir, 'ws');
  cacheDir = join(dir, 'cache');
  mkdirSync(root);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('packWorkspace', () => {
  it('honours .gitignore and .nsmlignore and always skips tool folders', async () => {
    write('main.py', 'print(1)\n');
    write('src/a.py', 'a\n');
    write('data/big.bin', 'x'.repeat(100));
    write('logs/run.log', 'l\n');
    write('keep.log', 'k\n');
    write('src/.gitignore', '/generated\n');
    write('src/generated/out.py', 'g\n');
    write('generated/top.py', 't\n');
    write('.gitignore', 'data/\n*.log\n');
    write('.nsmlignore', '!keep.log\n');
    for (const skipped of ['.git/HEAD', 'node_modules/x/index.js', 'pkg/__pycache__/a.pyc', '.nsml/state', 'sub/.git']) write(skipped, 's');
    expect(await paths()).toEqual(['.gitignore', '.nsmlignore', 'generated/top.py', 'keep.log', 'main.py', 'src/.gitignore', 'src/a.py']);
  });

  it('follows symlinks that stay inside the workspace', async () => {
    write('src/a.py', 'a\n');
    symlinkSync('src/a.py', join(root, 'link.py'));
    symlinkSync('src', join(root, 'lib'));
    const packed = await packWorkspace({ root });
    expect(packed.entries.map((e) => e.path)).toEqual(['lib/a.py', 'link.py', 'src/a.py']);
    expect(new Set(packed.entries.map((e) => e.hash)).size).toBe(1);
    expect(packed.sources.size).toBe(1);
  });

  it('refuses a symlink that leaves the workspace, naming it', async () => {
    write('main.py', 'x');
    writeFileSync(join(dir, 'secret'), 'outside');
    mkdirSync(join(root, 'conf'));
    symlinkSync(join(dir, 'secret'), join(root, 'conf', 'creds'));
    await expect(packWorkspace({ root })).rejects.toMatchObject({
      code: 'NSML_E_WORKSPACE_SYMLINK_ESCAPES',
      message: expect.stringContaining('conf/creds'),
    });
    symlinkSync('..', join(root, 'up'));
    write('.nsmlignore', 'conf/\n');
    await expect(packWorkspace({ root })).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_SYMLINK_ESCAPES', message: expect.stringContaining('symlink up ') });
    write('.nsmlignore', 'conf/\n/up\n');
    expect(await paths()).toEqual(['.nsmlignore', 'main.py']);
  });

  it('refuses a symlink loop and a dangling link', async () => {
    write('a/x.py', 'x');
    symlinkSync('..', join(root, 'a', 'loop'));
    await expect(packWorkspace({ root })).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_INVALID', message: expect.stringContaining('a/loop') });
    rmSync(join(root, 'a', 'loop'));
    symlinkSync('missing.py', join(root, 'dangling.py'));
    await expect(packWorkspace({ root })).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_INVALID', message: expect.stringContaining('dangling.py') });
  });

  it('builds a manifest that decodes to the same entries, with modes and sizes', async () => {
    write('main.py', 'print(1)\n');
    write('run.sh', '#!/bin/sh\n');
    chmodSync(join(root, 'main.py'), 0o640);
    chmodSync(join(root, 'run.sh'), 0o755);
    const packed = await packWorkspace({ root });
    const decoded = decodeManifest(packed.manifest.bytes);
    expect(decoded.entries).toEqual([
      { path: 'main.py', mode: 0o640, size: 9, hash: sha256('print(1)\n') },
      { path: 'run.sh', mode: 0o755, size: 10, hash: sha256('#!/bin/sh\n') },
    ]);
    expect(packed.manifest.hash).toBe(sha256(packed.manifest.bytes));
    expect(packed.totalBytes).toBe(19);
  });

  it('gives an unchanged tree the same manifest hash and reads no file the second time', async () => {
    const files = Array.from({ length: 20 }, (_, i) => `src/f${i}.py`);
    for (const f of files) write(f, `content ${f}\n`);
    age(files);
    let reads = 0;
    const hashFile = (p: string) => {
      reads += 1;
      return sha256File(p);
    };
    const first = await packWorkspace({ root, cacheDir, hashFile });
    expect(first.hashedFiles).toBe(20);
    expect(reads).toBe(20);
    const second = await packWorkspace({ root, cacheDir, hashFile });
    expect(second.hashedFiles).toBe(0);
    expect(reads).toBe(20);
    expect(second.manifest.hash).toBe(first.manifest.hash);

    write('src/f3.py', 'changed!\n');
    age(['src/f3.py']);
    const third = await packWorkspace({ root, cacheDir, hashFile });
    expect(third.hashedFiles).toBe(1);
    expect(third.manifest.hash).not.toBe(first.manifest.hash);
    expect(third.entries.find((e) => e.path === 'src/f3.py')?.hash).toBe(sha256('changed!\n'));
  });

  it('does not trust the cache for files changed a moment ago', async () => {
    write('main.py', 'one\n');
    await packWorkspace({ root, cacheDir });
    const again = await packWorkspace({ root, cacheDir });
    expect(again.hashedFiles).toBe(1);
  });
});

describe('checkEntry', () => {
  it('accepts a packed entry, with or without ./', async () => {
    write('main.py', 'x');
    const packed = await packWorkspace({ root });
    expect(() => checkEntry(packed, 'main.py')).not.toThrow();
    expect(() => checkEntry(packed, './main.py')).not.toThrow();
  });

  it.each([
    ['train.py', /no such file/],
    ['secret.py', /excluded by .gitignore or .nsmlignore/],
  ])('refuses %s with NSML_E_ENTRY_NOT_FOUND', async (entry, why) => {
    write('main.py', 'x');
    write('secret.py', 'y');
    write('.nsmlignore', 'secret.py\n');
    const packed = await packWorkspace({ root });
    expect(() => checkEntry(packed, entry)).toThrow(expect.objectContaining({ code: 'NSML_E_ENTRY_NOT_FOUND', message: expect.stringMatching(why) }));
  });
});

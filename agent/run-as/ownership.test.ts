import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handOver, handOverFolders, reclaimTree } from './ownership.js';

const ROOT = process.getuid?.() === 0;
/** Any unprivileged uid: no account is needed to own files or run a process. */
const U = { uid: 54_321, gid: 54_321 };

/** Runs Python as U; its exit status. */
function asUser(code: string): number {
  return spawnSync('python3', ['-S', '-c', code], { uid: U.uid, gid: U.gid, env: { PATH: '/usr/bin:/bin' } }).status ?? -1;
}

describe.skipIf(!ROOT)('handing folders to a session user and taking them back (as root)', () => {
  const base = mkdtempSync(join(tmpdir(), 'nsml-own-'));
  chmodSync(base, 0o711);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('gives every folder of a tree, not its files', async () => {
    const tree = join(base, 'ws');
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    writeFileSync(join(tree, 'a', 'f.py'), 'x');
    await handOverFolders(tree, U);
    for (const d of [tree, join(tree, 'a'), join(tree, 'a', 'b')]) expect(statSync(d).uid).toBe(U.uid);
    expect(statSync(join(tree, 'a', 'f.py')).uid).toBe(0);
  });

  it('takes a tree back top-down without following a symlink the user planted', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'nsml-own-outside-'));
    try {
      const tree = join(base, 'ckpt');
      mkdirSync(join(tree, 'sub'), { recursive: true });
      await handOverFolders(tree, U);
      await handOver(tree, U);
      // The user swaps a folder for a link to a root-only folder elsewhere.
      expect(asUser(`import os; os.rename(${JSON.stringify(join(tree, 'sub'))}, ${JSON.stringify(join(tree, 'old'))}); os.symlink(${JSON.stringify(outside)}, ${JSON.stringify(join(tree, 'sub'))})`)).toBe(0);
      await reclaimTree(tree);
      expect(lstatSync(join(tree, 'sub')).isSymbolicLink()).toBe(true);
      expect(statSync(outside).mode & 0o777).toBe(0o700); // untouched (mkdtemp's mode)
      for (const d of [tree, join(tree, 'old')]) {
        expect(statSync(d).uid).toBe(0);
        expect(statSync(d).mode & 0o777).toBe(0o700);
      }
      // Taken back: the user can no longer add to it, not even where it was the owner.
      expect(asUser(`open(${JSON.stringify(join(tree, 'old', 'x'))}, 'w')`)).not.toBe(0);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('accepts a missing path', async () => {
    await expect(reclaimTree(join(base, 'nope'))).resolves.toBeUndefined();
  });

  it('a handed-over folder is the user\'s alone', async () => {
    const home = join(base, 'home');
    mkdirSync(home);
    await handOver(home, U);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(asUser(`open(${JSON.stringify(join(home, 'x'))}, 'w')`)).toBe(0);
    expect(spawnSync('python3', ['-S', '-c', `import os; os.listdir(${JSON.stringify(home)})`], { uid: U.uid + 1, gid: U.gid + 1 }).status).not.toBe(0);
  });
});

import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStaging, moveToUser, pinOwnedFiles } from './user-files.js';

const ROOT = process.getuid?.() === 0;
const U = { uid: 54_323, gid: 54_323 };

describe.skipIf(!ROOT)('checkpoint files of a session that runs as its own user (as root)', () => {
  const rank = mkdtempSync(join(tmpdir(), 'nsml-ckpt-owner-'));
  const owner = { ...U, stagingDir: rank };
  const ckpt = join(rank, 'checkpoints');
  mkdirSync(ckpt);
  chownSync(ckpt, U.uid, U.gid);
  afterAll(() => rmSync(rank, { recursive: true, force: true }));
  const file = (name: string, uid: number) => {
    const local = join(ckpt, name);
    writeFileSync(local, `bytes of ${name}`);
    chownSync(local, uid, uid);
    return { path: name, local, size: 0, mode: 0o644 };
  };

  it('pins the user\'s own files and reads them from root-only links', async () => {
    const pinned = await pinOwnedFiles([file('w.pt', U.uid)], owner);
    expect(pinned.files[0]!.local.startsWith(join(rank, '.save-'))).toBe(true);
    expect(readFileSync(pinned.files[0]!.local, 'utf8')).toBe('bytes of w.pt');
    expect(pinned.files[0]!.size).toBe('bytes of w.pt'.length);
    await pinned.release();
    expect(existsSync(pinned.files[0]!.local)).toBe(false);
  });

  it('refuses a file that is not the user\'s: a root file, or a symlink to one', async () => {
    const secret = join(rank, 'node-secret');
    writeFileSync(secret, 'root only', { mode: 0o600 });
    await expect(pinOwnedFiles([file('ok.pt', U.uid), file('r.pt', 0)], owner)).rejects.toMatchObject({
      code: 'NSML_E_PERMISSION_DENIED', message: expect.stringMatching(/r\.pt of the checkpoint is not a file of the session's user \(uid 0\)/),
    });
    symlinkSync(secret, join(ckpt, 'link.pt'));
    await expect(pinOwnedFiles([{ path: 'link.pt', local: join(ckpt, 'link.pt'), size: 0, mode: 0o644 }], owner)).rejects.toMatchObject({ code: 'NSML_E_PERMISSION_DENIED' });
    expect(readdirStaging()).toEqual([]);
  });

  it('gives a loaded checkpoint to the user once built where only root can write', async () => {
    const work = join(rank, 'loaded-checkpoints');
    mkdirSync(work);
    chownSync(work, U.uid, U.gid);
    const built = join(loadStaging(owner), 'load-abc');
    mkdirSync(join(built, 'model'), { recursive: true });
    writeFileSync(join(built, 'model', 'w.pt'), 'w');
    const final = await moveToUser(built, work, owner);
    expect(final).toBe(join(work, 'load-abc'));
    expect(statSync(join(final, 'model')).uid).toBe(U.uid);
    expect(statSync(join(final, 'model', 'w.pt')).uid).toBe(0);
  });

  function readdirStaging(): string[] {
    return readdirSync(rank).filter((n) => n.startsWith('.save-'));
  }
});

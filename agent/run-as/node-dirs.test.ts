import { installSdkCopy } from './sdk-copy.js';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../common/proto/load.js';
import { checkReach, hardenDataDir } from './node-dirs.js';

const ROOT = process.getuid?.() === 0;
const SDK = join(repoRoot(), 'sdk-python', 'src');
const NOBODY = { uid: 65534, gid: 65534, label: 'uid 65534' };

describe.skipIf(!ROOT)('the data folder of an agent that keeps users apart (as root)', () => {
  const base = mkdtempSync(join(tmpdir(), 'nsml-dirs-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('is root\'s alone but for the way to the sessions', () => {
    const data = join(base, 'agent');
    mkdirSync(join(data, 'blobs', 'ab'), { recursive: true });
    mkdirSync(join(data, 'datasets'));
    writeFileSync(join(data, 'node-secret'), 's3cret\n', { mode: 0o644 });
    writeFileSync(join(data, 'node-id'), 'n1\n', { mode: 0o644 });
    hardenDataDir(data);
    const mode = (p: string) => statSync(join(data, p)).mode & 0o777;
    expect([mode(''), mode('sessions'), mode('sessions/.sock')]).toEqual([0o711, 0o711, 0o711]);
    expect([mode('blobs'), mode('datasets')]).toEqual([0o700, 0o700]);
    expect([mode('node-secret'), mode('node-id')]).toEqual([0o600, 0o600]);
  });

  it('refuses to start when a session user cannot pass a folder above the sessions', async () => {
    const closed = join(base, 'closed');
    mkdirSync(join(closed, 'agent', 'sessions'), { recursive: true });
    chmodSync(closed, 0o700);
    // The SDK as a root agent serves it (a readable copy), wherever this checkout lies.
    const needs = { sessionsDir: join(closed, 'agent', 'sessions'), python: 'python3', sdkPath: installSdkCopy(SDK, base) };
    await expect(checkReach(needs, NOBODY)).rejects.toMatchObject({
      code: 'NSML_E_CONFIG',
      message: expect.stringMatching(/sessions run as uid 65534, who cannot reach .*closed\/agent\/sessions \(a folder above it, or it, does not let the user pass: chmod o\+x\)/),
    });
    chmodSync(closed, 0o711);
    chmodSync(base, 0o711);
    await expect(checkReach(needs, NOBODY)).resolves.toBeUndefined();
  });

  it('refuses to start when the Python cannot be run by a session user', async () => {
    const needs = { sessionsDir: base, python: join(base, 'no-python'), sdkPath: SDK };
    await expect(checkReach(needs, NOBODY)).rejects.toThrow(/sessions run as uid 65534, who cannot run .*no-python/);
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJoinTokenFile } from './join-token-file.js';

describe('readJoinTokenFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode: number) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };

  it('reads a 600 file, dropping the newline', () => {
    expect(readJoinTokenFile(file('ok', 's3cret\n', 0o600))).toBe('s3cret');
    expect(readJoinTokenFile(file('ro', 's3cret', 0o400))).toBe('s3cret');
  });

  it.each([
    [0o644, 'mode 644'],
    [0o640, 'mode 640'],
    [0o604, 'mode 604'],
    [0o620, 'mode 620'],
  ])('refuses mode %o', (mode, shown) => {
    const path = file(`m${mode.toString(8)}`, 's3cret', mode);
    expect(() => readJoinTokenFile(path)).toThrow(expect.objectContaining({
      code: 'NSML_E_CONFIG', message: expect.stringContaining(`may be read or written by others (${shown}); run chmod 600 ${path}`),
    }));
  });

  it.each([
    ['empty', '\n', /is empty/],
    ['spaced', 'a b\n', /holds whitespace inside/],
  ])('refuses a file that is %s', (name, text, message) => {
    expect(() => readJoinTokenFile(file(name, text, 0o600))).toThrow(message);
  });

  it('names a missing file', () => {
    expect(() => readJoinTokenFile(join(dir, 'nope'))).toThrow(/cannot read the join token file .*nope \(--join-token-file\)/);
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUsersFile, readUsersFile } from './users-file.js';

describe('parseUsersFile', () => {
  it('reads pairs, skipping comments and blank lines', () => {
    const map = parseUsersFile('# nsml user → account\nalice  alice\n\n\tbob\tsvc-bob\ncarol nobody\n', 'F');
    expect([...map]).toEqual([['alice', 'alice'], ['bob', 'svc-bob'], ['carol', 'nobody']]);
  });

  it.each([
    ['alice', /line 1: expected "NSMLUSER UNIXUSER", got "alice"/],
    ['alice a b', /line 1: expected "NSMLUSER UNIXUSER"/],
    ['al/ice alice', /line 1: .*user name/],
    ['alice root', /line 1: maps alice to root; user code never runs as root/],
    ['alice al:ice', /line 1: "al:ice" is not a Unix account name/],
    ['alice a\nbob b\nalice c', /line 3: names alice a second time/],
  ])('refuses %j', (text, message) => {
    expect(() => parseUsersFile(text, 'F')).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG', message: expect.stringMatching(message) }));
  });
});

describe('readUsersFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsml-users-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file others may write', () => {
    const path = join(dir, 'users');
    writeFileSync(path, 'alice alice\n');
    chmodSync(path, 0o666);
    expect(() => readUsersFile(path)).toThrow(/writable by its group or by everyone \(mode 666\); run chmod go-w/);
    chmodSync(path, 0o644);
    expect(readUsersFile(path).get('alice')).toBe('alice');
  });

  it('names a missing file', () => {
    expect(() => readUsersFile(join(dir, 'nope'))).toThrow(/cannot read the users file .*nope \(--run-as\)/);
  });
});

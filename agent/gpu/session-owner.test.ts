import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createProcSessionResolver } from './session-owner.js';

const proc = mkdtempSync(join(tmpdir(), 'nsml-proc-'));
afterAll(() => rmSync(proc, { recursive: true, force: true }));

function fakeProcess(pid: number, env: string[]): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'environ'), env.join('\0') + '\0');
}

fakeProcess(10, ['PATH=/usr/bin', 'NSML_SESSION=alice/mnist/3', 'HOME=/home/alice']);
fakeProcess(11, ['PATH=/usr/bin']);
fakeProcess(12, ['NSML_SESSION=bob/x/1']);
fakeProcess(13, ['NSML_SESSION=']);

describe('createProcSessionResolver', () => {
  test.each([
    [10, 'alice/mnist/3'],
    [11, ''],
    [12, ''],
    [13, ''],
    [99, ''],
    [20, 'carol/y/2'],
  ])('pid %i → %j', (pid, session) => {
    const resolve = createProcSessionResolver({
      procRoot: proc,
      known: () => new Map([[20, 'carol/y/2']]),
      isRunning: (s) => s === 'alice/mnist/3' || s === 'carol/y/2',
    });
    expect(resolve(pid)).toBe(session);
  });

  test('without isRunning, the environment is trusted', () => {
    expect(createProcSessionResolver({ procRoot: proc })(12)).toBe('bob/x/1');
  });

  test('reads this very process on the real /proc', () => {
    expect(createProcSessionResolver({ envVar: 'PATH' })(process.pid)).toBe(process.env.PATH ?? '');
  });
});

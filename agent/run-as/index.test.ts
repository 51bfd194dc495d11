import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../common/log.js';
import { repoRoot } from '../../common/proto/load.js';
import { FakeAccounts } from './accounts.js';
import { setUpIsolation } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'nsml-isolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Array<{ level: string; msg: string }> } {
  const out: string[] = [];
  return { logger: createLogger({}, { level: 'debug', write: (l) => out.push(l) }), lines: () => out.map((l) => JSON.parse(l) as { level: string; msg: string }) };
}
const base = { dataDir: dir, python: 'python3', sdkPath: join(repoRoot(), 'sdk-python', 'src') };

describe('setUpIsolation', () => {
  it('says at start that an agent that is not root cannot keep users apart', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const log = capture();
    expect(await setUpIsolation({ ...base, runAs: { mode: 'none' }, logger: log.logger })).toEqual({ isolation: 'none', users: undefined });
    expect(log.lines()).toEqual([expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/runs as uid 1000, not root: it cannot keep users apart; .*shared uid/) })]);
  });

  it('refuses to run sessions as other users when not root', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    await expect(setUpIsolation({ ...base, runAs: { mode: 'accounts' }, logger: capture().logger }, new FakeAccounts())).rejects.toMatchObject({
      code: 'NSML_E_CONFIG', message: expect.stringMatching(/--isolation users\) needs an agent running as root; this one runs as uid 1000/),
    });
  });

  it('says loudly that sessions run as root with --isolation none as root', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    const log = capture();
    expect((await setUpIsolation({ ...base, runAs: { mode: 'none' }, logger: log.logger })).isolation).toBe('none');
    expect(log.lines()).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/^sessions run as root \(--isolation none\)/) })]);
  });
});

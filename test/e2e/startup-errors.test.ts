import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NSML_BIN } from '../harness/cluster.js';

/** `nsml` processes that must end on their own: a bound on the wait, not a timing assertion. */
function nsml(args: string[], dir: string) {
  return execa(process.execPath, [NSML_BIN, ...args], {
    cwd: dir, reject: false, timeout: 30_000,
    env: { NSML_HOME: join(dir, 'home'), NSML_LOG_LEVEL: 'warn', NSML_JOIN_TOKEN: '', NSML_AGENT_ISOLATION: 'none' },
  });
}

describe('a process that cannot start says why and exits non-zero', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-startup-'));
    file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Tests run as root, which may write anywhere: a path through a regular file is unwritable for anyone.
  it.each([
    ['coordinator', 'under a file', (f: string) => join(f, 'data'), /a part of the path is a file, not a directory \(ENOTDIR\)/],
    ['coordinator', 'that is a file', (f: string) => f, /a file of that name is in the way \(EEXIST\)|ENOTDIR/],
    ['agent', 'under a file', (f: string) => join(f, 'data'), /a part of the path is a file, not a directory \(ENOTDIR\)/],
  ])('nsml %s with a data directory %s: NSML_E_STATE_DIR naming it', async (command, _what, path, why) => {
    const data = path(file);
    const extra = command === 'agent' ? ['--coordinator', '127.0.0.1:1'] : ['--port', '0'];
    const r = await nsml([command, '--data', data, ...extra], dir);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`NSML_E_STATE_DIR: the data directory ${data} cannot be created`);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain(`nsml ${command} --data`);
    expect(r.stderr).not.toContain('NSML_E_INTERNAL');
  });

  it('an agent with a wrong join token exits with the coordinator\'s NSML_E_UNAUTHENTICATED instead of retrying', async () => {
    const data = join(dir, 'coordinator');
    const coordinator = nsml(['coordinator', '--port', '0', '--data', data, '--join-token', 'token-A'], dir);
    try {
      const info = join(data, 'coordinator.json');
      for (let i = 0; i < 300 && !existsSync(info); i++) await new Promise((r) => setTimeout(r, 100));
      const { address } = JSON.parse(readFileSync(info, 'utf8')) as { address: string };
      const agent = await nsml(['agent', '--coordinator', address, '--data', join(dir, 'agent'), '--name', 'n1', '--join-token', 'token-B'], dir);
      expect(agent.timedOut).toBe(false);
      expect(agent.exitCode).toBe(1);
      expect(agent.stderr).toContain('nsml: NSML_E_UNAUTHENTICATED: node n1 presented a wrong join token');
    } finally {
      coordinator.kill('SIGTERM');
      await coordinator;
    }
  });
});

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWheel } from '../../agent/env/test-fixtures/wheels.js';
import { makeWorkspace } from '../harness/workspace.js';

/*
 * Session environments on a node that keeps users apart: the installer runs as the session's
 * own account (never root), and two users who declare the same packages get two environments,
 * so nothing one user's install did can reach the other's process.
 */

const ROOT = process.getuid?.() === 0;
const TAG = randomBytes(3).toString('hex');
const ACCOUNTS = { alice: `nsmle${TAG}a`, bob: `nsmle${TAG}b` };

const SCRIPT = `import json, os, tinypkg
print("ENV " + json.dumps({"uid": os.getuid(), "venv": os.environ.get("VIRTUAL_ENV", ""), "owner": os.stat(tinypkg.__file__).st_uid}), flush=True)
`;

function useradd(name: string): void {
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${name}: ${r.stderr}`);
}

const uidOf = (name: string) => Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());

describe.skipIf(!ROOT)('session environments on a node that keeps users apart (real users; needs root)', () => {
  let c: TestCluster;
  let files: string;
  const made: string[] = [];

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'nsml-env-apart-'));
    chmodSync(files, 0o755);
    for (const name of Object.values(ACCOUNTS)) {
      useradd(name);
      made.push(name);
    }
    const users = join(files, 'users');
    writeFileSync(users, `alice ${ACCOUNTS.alice}\nbob ${ACCOUNTS.bob}\n`, { mode: 0o644 });
    const pkg = join(files, 'src');
    mkdirSync(pkg);
    writeFileSync(join(pkg, '__init__.py'), 'VERSION = 1\n');
    makeWheel(join(files, 'wheels'), 'tinypkg', '1.0', pkg);
    c = await TestCluster.start({
      agents: 1,
      // The node's Python must be one every account can run (a root-only pyenv is not).
      agentArgs: ['--isolation', 'users', '--run-as', users, ...(existsSync('/usr/bin/python3') ? ['--python', '/usr/bin/python3'] : [])],
      prepare: (dir) => chmodSync(dir, 0o711),
    });
  }, 120_000);

  afterAll(async () => {
    await c?.destroy();
    for (const name of made) spawnSync('userdel', [name]);
    if (files) rmSync(files, { recursive: true, force: true });
  });

  async function run(user: 'alice' | 'bob'): Promise<{ uid: number; venv: string; owner: number }> {
    const ws = makeWorkspace({ 'main.py': SCRIPT, 'requirements.txt': `--no-index\n--find-links ${join(files, 'wheels')}\ntinypkg\n` }, files);
    chmodSync(ws, 0o755);
    const r = await c.nsml(['run', '--json'], { cwd: ws, env: c.asUser(user), timeoutMs: 120_000 });
    const line = r.stderr.split('\n').find((l) => l.startsWith('ENV ') || l.includes(' ENV {'));
    expect(line, `${r.stdout}\n${r.stderr}`).toBeDefined();
    return JSON.parse(line!.slice(line!.indexOf('{'))) as { uid: number; venv: string; owner: number };
  }

  it("builds each user's environment as that user, and never shares one between users", async () => {
    const alice = await run('alice');
    const bob = await run('bob');
    expect(alice.uid).toBe(uidOf(ACCOUNTS.alice));
    expect(alice.owner).toBe(alice.uid); // pip ran as alice: the installed files are hers, not root's
    expect(bob.uid).toBe(uidOf(ACCOUNTS.bob));
    expect(bob.owner).toBe(bob.uid);
    expect(alice.venv).not.toBe('');
    expect(bob.venv).not.toBe(alice.venv);
    const again = await run('alice');
    expect(again.venv).toBe(alice.venv); // her second session reuses her environment
  }, 240_000);
});

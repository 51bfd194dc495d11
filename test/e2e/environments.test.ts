import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRequirements, makeWheel } from '../../agent/env/test-fixtures/wheels.js';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

describe('session environments on a real cluster (agent/env)', () => {
  let cluster: TestCluster;
  let wheels: string;
  beforeAll(async () => {
    wheels = mkdtempSync(join(tmpdir(), 'nsml-e2e-wheels-'));
    makeWheel(wheels, 'e2e-pkg', '2.0');
    cluster = await TestCluster.start({ agents: 1, agentArgs: ['--container-runtime', 'none'] });
  });
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(wheels, { recursive: true, force: true });
  });

  async function runToEnd(files: Record<string, string>, extra: string[] = []): Promise<{ name: string; logs: string; state: string; reason: string }> {
    const ws = makeWorkspace(files);
    const run = await cluster.nsml(['run', '--detach', '--json', ...extra], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    const { name } = JSON.parse(run.stdout) as { name: string };
    await cluster.nsml(['wait', name]);
    const logs = await cluster.nsml(['logs', name]);
    const ps = await cluster.nsmlJson<Array<{ name: string; state: string; reason?: string }>>(['ps', '-a']);
    const s = ps.find((x) => x.name === name)!;
    return { name, logs: logs.stdout, state: s.state, reason: s.reason ?? '' };
  }

  it("installs the workspace's requirements.txt, then reuses the node's cached environment", async () => {
    const files = { 'main.py': 'import e2e_pkg, os\nprint("pkg", e2e_pkg.VALUE)\nprint("nfs", os.environ["NSML_NFS_OUTPUT"])\n', 'requirements.txt': localRequirements(wheels, ['e2e-pkg']) };
    const first = await runToEnd(files);
    expect(first.state, first.logs).toBe('succeeded');
    expect(first.logs).toMatch(/nsml: building environment [0-9a-f]{12} \(1 requirement\)…/);
    expect(first.logs).toContain('pkg e2e-pkg 2.0');
    expect(first.logs).toMatch(new RegExp(`nfs .*/nfs-output/e2e/scratch/${first.name.split('/')[2]}`));
    const second = await runToEnd(files, ['--python', '3']);
    expect(second.state).toBe('succeeded');
    expect(second.logs).toMatch(/nsml: environment [0-9a-f]{12} cached/);
  });

  it("fails a session whose requirements cannot be installed with pip's error as the reason", async () => {
    const r = await runToEnd({ 'main.py': 'print("never")\n', 'requirements.txt': '--no-index\nnosuchpkg\n' });
    expect(r.state).toBe('failed');
    expect(r.reason).toContain('environment build failed: ERROR: No matching distribution found for nosuchpkg');
  });

  it.each([
    [['--python', '2.7'], 'NSML_E_PYTHON_UNAVAILABLE', /no node offers Python 2\.7/],
    [['--image', 'localhost/py:1'], 'NSML_E_NO_CONTAINER_RUNTIME', /no node has a container runtime/],
  ])('refuses at submit %j', async (extra, code, message) => {
    const r = await cluster.nsml(['run', '--detach', ...extra], { cwd: makeWorkspace({ 'main.py': 'print(1)\n' }) });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toMatch(message);
  });

  it('shows the Pythons a node offers in nsml node ls', async () => {
    const ls = await cluster.nsml(['node', 'ls']);
    expect(ls.stdout).toMatch(/\bPY\b/);
    expect(ls.stdout).toMatch(/\b3\.\d+\b/);
  });
});

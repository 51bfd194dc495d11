import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecResult, ExecProcess, execHelperPath } from '../../agent/exec/exec-process.js';
import { NSML_BIN, ROOT, TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

const FOREVER = 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(0.2)\n';

/** Runs `nsml ARGS` under a real pseudo-terminal (the exec helper), typing `keys` once `prompt` shows. */
function nsmlUnderPty(cluster: TestCluster, args: string[], keys: string, prompt: string): Promise<{ result: ExecResult; screen: string }> {
  const out: Buffer[] = [];
  let typed = false;
  return new Promise((resolve) => {
    const proc: ExecProcess = ExecProcess.start('python3', execHelperPath(ROOT), {
      argv: [process.execPath, NSML_BIN, ...args],
      cwd: cluster.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cluster.home, TERM: 'xterm', ...cluster.env() },
      tty: true, rows: 30, cols: 100,
    }, {
      stdout: (b) => {
        out.push(Buffer.from(b));
        if (!typed && Buffer.concat(out).toString().includes(prompt)) {
          typed = true;
          proc.write(Buffer.from(keys));
        }
      },
      stderr: () => {},
      exit: (result) => resolve({ result, screen: Buffer.concat(out).toString() }),
    });
  });
}

describe('terminals into sessions (nsml exec, nsml attach) on a real cluster', () => {
  let cluster: TestCluster;
  let name = '';
  const data = Buffer.from([...Array.from({ length: 256 }, (_, i) => i), ...randomBytes(200_000)]);

  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1 });
    const ws = makeWorkspace({ 'main.py': FOREVER });
    const run = await cluster.nsml(['run', '--detach', '--json'], { cwd: ws });
    expect(run.exitCode, run.stderr).toBe(0);
    name = (JSON.parse(run.stdout) as { name: string }).name;
    await cluster.waitFor(async () => (await cluster.nsml(['logs', name])).stdout.includes('started'), 'the session to run');
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('runs a command in the session environment and passes its exit status on', async () => {
    const env = await cluster.nsml(['exec', name, '--', 'sh', '-c', 'env; echo "cwd=$(pwd)"']);
    expect(env.exitCode, env.stderr).toBe(0);
    expect(env.stdout).toContain(`NSML_SESSION=${name}\n`);
    expect(env.stdout).toMatch(/\ncwd=\/.*\/workspace$/); // the harness strips the final newline
    const failed = await cluster.nsml(['exec', name, '--', 'sh', '-c', 'echo to-stderr >&2; exit 7']);
    expect(failed.exitCode).toBe(7);
    expect(failed.stderr).toBe('to-stderr');
    const missing = await cluster.nsml(['exec', name, '--', 'no-such-tool']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('cannot run ["no-such-tool"]');
  });

  it('forwards stdin and brings stdout back byte for byte', async () => {
    const r = await execa(process.execPath, [NSML_BIN, 'exec', name, '--', 'cat'], {
      env: cluster.env(), input: data, encoding: 'buffer', reject: false, timeout: 60_000,
    });
    expect(r.exitCode).toBe(0);
    expect(Buffer.from(r.stdout).equals(data)).toBe(true);
  });

  it('lets only the owner, an admin and a control share in; others get the not-found answer', async () => {
    const bob = cluster.asUser('bob');
    const refused = await cluster.nsml(['exec', name, '--', 'true'], { env: bob });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('NSML_E_SESSION_NOT_FOUND');
    expect((await cluster.nsml(['share', name, 'bob'])).exitCode).toBe(0);
    const readOnly = await cluster.nsml(['exec', name, '--', 'true'], { env: bob });
    expect(readOnly.stderr).toContain('NSML_E_PERMISSION_DENIED');
    expect((await cluster.nsml(['share', name, 'bob', '--control'])).exitCode).toBe(0);
    const control = await cluster.nsml(['exec', name, '--', 'sh', '-c', 'echo "$NSML_USER"'], { env: bob });
    expect(control.exitCode, control.stderr).toBe(0);
    expect(control.stdout).toBe('e2e');
  });

  it('refuses a session that is not running with a clear error', async () => {
    const ws = makeWorkspace({ 'main.py': 'print("done")\n' });
    const run = await cluster.nsml(['run', '--detach', '--json'], { cwd: ws });
    const ended = (JSON.parse(run.stdout) as { name: string }).name;
    expect((await cluster.nsml(['wait', ended])).exitCode).toBe(0);
    const r = await cluster.nsml(['exec', ended, '--', 'true']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/NSML_E_SESSION_NOT_RUNNING: session .* has ended \(succeeded\)/);
  });

  it('exec -t gives the command a real terminal', async () => {
    const { result, screen } = await nsmlUnderPty(cluster, ['exec', '-t', name, '--', 'sh', '-c', 'tty; stty size'], '', '');
    expect(result.exitCode).toBe(0);
    // The local terminal (raw mode keeps its output processing) adds a carriage return of its own.
    expect(screen).toMatch(/\/dev\/pts\/\d+\r+\n/);
    expect(screen).toMatch(/30 100\r+\n/);
  });

  it('attach opens a shell under a TTY that exits with its status', async () => {
    const { result, screen } = await nsmlUnderPty(cluster, ['attach', name], 'echo hi-from-$NSML_RANK; exit 3\r', '');
    expect(result.exitCode).toBe(3);
    expect(screen).toContain('hi-from-0');
  });
});

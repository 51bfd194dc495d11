import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecResult, ExecProcess, execHelperPath } from '../../agent/exec/exec-process.js';
import { NSML_BIN, ROOT, TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

const FOREVER = 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(0.2)\n';

/** `nsml ARGS` under a real pseudo-terminal (the exec helper): keys typed, size changed, screen read. */
interface PtyRun {
  type(keys: string): void;
  resize(rows: number, cols: number): void;
  /** Resolves once `text` is on the screen (after what earlier calls waited for). */
  seen(text: string): Promise<void>;
  screen(): string;
  done: Promise<ExecResult>;
}

function nsmlUnderPty(cluster: TestCluster, args: string[], cwd = cluster.dir, argv = [process.execPath, NSML_BIN, ...args]): PtyRun {
  const out: Buffer[] = [];
  const waiters: Array<() => void> = [];
  let from = 0;
  let finish!: (r: ExecResult) => void;
  const done = new Promise<ExecResult>((resolve) => (finish = resolve));
  const proc = ExecProcess.start('python3', execHelperPath(ROOT), {
    argv,
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cluster.home, TERM: 'xterm', ...cluster.env() },
    tty: true, rows: 30, cols: 100,
  }, {
    stdout: (b) => {
      out.push(Buffer.from(b));
      for (const w of waiters.splice(0)) w();
    },
    stderr: () => {},
    exit: (r) => {
      finish(r);
      for (const w of waiters.splice(0)) w();
    },
  });
  let ended = false;
  void done.then(() => (ended = true));
  const screen = () => Buffer.concat(out).toString();
  return {
    type: (keys) => void proc.write(Buffer.from(keys)),
    resize: (rows, cols) => proc.resize(rows, cols),
    seen: async (text) => {
      for (;;) {
        const at = screen().indexOf(text, from);
        if (at >= 0) {
          from = at + text.length;
          return;
        }
        if (ended) throw new Error(`the terminal ended without showing ${JSON.stringify(text)}: ${JSON.stringify(screen())}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    screen,
    done,
  };
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
    const t = nsmlUnderPty(cluster, ['exec', '-t', name, '--', 'sh', '-c', 'tty; stty size']);
    expect((await t.done).exitCode).toBe(0);
    // The remote pty turns "\n" into "\r\n"; the local terminal adds nothing (-onlcr in raw mode).
    expect(t.screen()).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(t.screen()).toMatch(/30 100\r\n/);
    expect(t.screen()).not.toContain('\r\r\n');
  });

  it('attach: a shell that follows resizes, takes Ctrl-C for its command, and exits with its status', async () => {
    const t = nsmlUnderPty(cluster, ['attach', name]);
    // $((…)) makes each marker appear only in the output, not in the echo of what was typed.
    t.type('stty size; echo A-$((40+2))-$NSML_RANK\r');
    await t.seen('A-42-0');
    expect(t.screen()).toContain('30 100');
    t.resize(40, 120);
    // The new size travels as a signal to nsml, then a frame: the shell waits until it sees it.
    t.type('until [ "$(stty size)" = "40 120" ]; do sleep 0.05; done; echo B-$((40+3))\r');
    await t.seen('B-43');
    t.type('sh -c \'echo C-$((40+4)); exec sleep 30\'\r');
    await t.seen('C-44');
    t.type('\x03');
    await t.seen('^C');
    t.type('echo D-$((40+5))-$?\r');
    await t.seen('D-45-130');
    t.type('exit 3\r');
    expect((await t.done).exitCode).toBe(3);
  });

  it('run -i submits, waits until the session runs, and opens a shell in it', async () => {
    const ws = makeWorkspace({ 'main.py': FOREVER });
    const t = nsmlUnderPty(cluster, ['run', '-i'], ws);
    await t.seen('waiting until it runs');
    t.type('echo I-$((50+5))-$NSML_SESSION; exit 4\r');
    await t.seen('I-55-e2e/scratch/');
    expect((await t.done).exitCode).toBe(4);
    expect(t.screen()).toContain('keeps running');
    const running = (await cluster.nsmlJson<Array<{ name: string; state: string }>>(['ps'])).filter((s) => s.state === 'running');
    expect(running.length).toBe(2);
  });

  // Last: it kills the coordinator.
  it('attach restores the local terminal when the connection drops', async () => {
    const script = `"${process.execPath}" "${NSML_BIN}" attach ${name}; echo "status=$?"; stty -a; echo E-$((60+6))`;
    const t = nsmlUnderPty(cluster, [], cluster.dir, ['sh', '-c', script]);
    t.type('echo F-$((60+7))\r');
    await t.seen('F-67');
    await cluster.killCoordinator();
    await t.seen('E-66');
    expect(t.screen()).toContain('status=1');
    expect(t.screen()).toMatch(/NSML_E_\w+: /);
    const modes = t.screen().slice(t.screen().lastIndexOf('status=1'));
    expect(modes).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(modes).toMatch(/(^|\s)echo(\s|$)/m);
    expect(modes).toMatch(/(^|\s)isig(\s|$)/m);
    expect((await t.done).exitCode).toBe(0);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../common/proto/load.js';
import { type ExecCommand, type ExecResult, ExecProcess, execHelperPath } from './exec-process.js';

const HELPER = execHelperPath(repoRoot());
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TERM: 'xterm' };

interface Run {
  proc: ExecProcess;
  stdout(): Buffer;
  stderr(): Buffer;
  /** Resolves once `text` appeared on stdout. */
  seen(text: string): Promise<void>;
  done: Promise<ExecResult>;
}

function run(argv: string[], options: Partial<ExecCommand> = {}): Run {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: Array<() => void> = [];
  let finish!: (r: ExecResult) => void;
  const done = new Promise<ExecResult>((resolve) => (finish = resolve));
  const proc = ExecProcess.start('python3', HELPER, { argv, cwd: '/', env: ENV, tty: false, rows: 0, cols: 0, ...options }, {
    stdout: (b) => {
      out.push(Buffer.from(b));
      for (const w of waiters.splice(0)) w();
    },
    stderr: (b) => void err.push(Buffer.from(b)),
    exit: finish,
  });
  const stdout = () => Buffer.concat(out);
  const seen = async (text: string) => {
    while (!stdout().toString().includes(text)) await new Promise<void>((r) => waiters.push(r));
  };
  return { proc, stdout, stderr: () => Buffer.concat(err), seen, done };
}

describe('the exec helper with pipes', () => {
  it('passes stdin to stdout byte for byte and keeps stderr apart', async () => {
    const input = randomBytes(300_000);
    const r = run(['sh', '-c', 'cat; echo oops >&2; exit 7']);
    r.proc.write(input);
    r.proc.endInput();
    const result = await r.done;
    expect(result).toEqual({ exitCode: 7, signal: null, message: '' });
    expect(r.stdout().equals(input)).toBe(true);
    expect(r.stderr().toString()).toBe('oops\n');
  });

  it('runs in the given folder with exactly the given environment', async () => {
    const r = run(['sh', '-c', 'pwd; echo "$NSML_SESSION"; [ -t 0 ] && echo tty || echo pipe'], { cwd: '/tmp', env: { ...ENV, NSML_SESSION: 'a/b/1' } });
    r.proc.endInput();
    expect((await r.done).exitCode).toBe(0);
    expect(r.stdout().toString()).toBe('/tmp\na/b/1\npipe\n');
  });

  it('answers a command that does not exist with 127 and a message', async () => {
    const r = run(['no-such-command-here']);
    const result = await r.done;
    expect(result.exitCode).toBe(127);
    expect(result.message).toMatch(/cannot run \["no-such-command-here"\]/);
  });

  it('delivers a signal to the process group', async () => {
    const r = run(['sh', '-c', 'echo ready; exec sleep 30']);
    await r.seen('ready');
    r.proc.signal('SIGTERM');
    expect(await r.done).toEqual({ exitCode: null, signal: 'SIGTERM', message: '' });
  });
});

describe('the exec helper with a real PTY', () => {
  it('gives the command a terminal of the size sent', async () => {
    const r = run(['sh', '-c', 'tty; stty size'], { tty: true, rows: 33, cols: 101 });
    expect((await r.done).exitCode).toBe(0);
    const text = r.stdout().toString();
    expect(text).toMatch(/^\/dev\/pts\/\d+\r\n/);
    expect(text).toContain('33 101\r\n');
  });

  it('changes the size on resize', async () => {
    const r = run(['sh', '-c', 'stty size; echo ready; read x; stty size'], { tty: true, rows: 24, cols: 80 });
    await r.seen('ready');
    r.proc.resize(50, 132);
    r.proc.write(Buffer.from('go\r'));
    expect((await r.done).exitCode).toBe(0);
    const text = r.stdout().toString();
    expect(text).toContain('24 80\r\n');
    expect(text).toContain('50 132\r\n');
  });

  it('interrupts sleep with Ctrl-C typed on the terminal', async () => {
    const r = run(['sh', '-c', 'echo ready; exec sleep 30'], { tty: true, rows: 24, cols: 80 });
    await r.seen('ready');
    r.proc.write(Buffer.from([0x03]));
    expect(await r.done).toEqual({ exitCode: null, signal: 'SIGINT', message: '' });
  });

  it('hangs up the command when the agent side goes away', async () => {
    const r = run(['sh', '-c', 'echo $$; echo ready; exec sleep 30'], { tty: true, rows: 24, cols: 80 });
    await r.seen('ready');
    const pid = Number(r.stdout().toString().split('\r\n')[0]);
    r.proc.hangUp();
    const until = Date.now() + 10_000;
    let alive = true;
    while (alive && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 50));
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});

describe('the exec helper as another user', () => {
  it.runIf(process.getuid?.() === 0)('runs the command as the given account, with no other group', async () => {
    const r = run(['sh', '-c', 'id -u; id -g; id -G'], { user: { name: 'nobody', uid: 65534, gid: 65534 } });
    r.proc.endInput();
    expect((await r.done).exitCode).toBe(0);
    expect(r.stdout().toString()).toBe('65534\n65534\n65534\n');
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureIo } from '../io.js';
import { runCliWith } from '../main.js';
import { quoteUnitWord } from '../systemd-unit.js';
import { loadExternal } from './external.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-units-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function nsml(argv: string[], env: Record<string, string> = {}) {
  const io = captureIo({ cwd: dir, env: { NSML_HOME: join(dir, 'home'), ...env } });
  const code = await runCliWith(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('install-service', () => {
  it('writes an agent unit that restarts always and leaves sessions running', async () => {
    const r = await nsml(['agent', 'install-service', '--output', dir, '--coordinator', '10.0.0.5:7450', '--gpus', '0,1', '--name', 'gpu-01', '--join-token', 's3cret']);
    expect(r.code).toBe(0);
    const unit = readFileSync(join(dir, 'nsml-agent.service'), 'utf8');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(unit).toMatch(/^# .*re-adopts/m);
    const tokenFile = join(dir, 'nsml-agent.join-token');
    expect(unit).toContain(`agent --coordinator 10.0.0.5:7450 --data /var/lib/nsml/agent --name gpu-01 --gpus 0,1 --join-token-file ${tokenFile}\n`);
    expect(unit).toMatch(/^ExecStart=\S+ \S+bin\/nsml\.js agent /m);
    expect(unit).not.toContain('s3cret');
    expect(unit).not.toContain('EnvironmentFile=');
    expect(readFileSync(tokenFile, 'utf8')).toBe('s3cret\n');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  });

  it('passes an agent unit the run-as flags and a join token file as given', async () => {
    const r = await nsml(['agent', 'install-service', '--output', dir, '--coordinator', '10.0.0.5:7450', '--run-as', '/etc/nsml/users', '--join-token-file', '/etc/nsml/token']);
    expect(r.code, r.stderr).toBe(0);
    const unit = readFileSync(join(dir, 'nsml-agent.service'), 'utf8');
    expect(unit).toContain('--data /var/lib/nsml/agent --run-as /etc/nsml/users --join-token-file /etc/nsml/token\n');
    expect(r.stdout).not.toContain('join token;');
  });

  it('writes a coordinator unit, warning when agents need no token', async () => {
    const r = await nsml(['coordinator', 'install-service', '--output', dir, '--user', 'nsml', '--port', '7000', '--heartbeat-timeout', '30s']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no --join-token/);
    const unit = readFileSync(join(dir, 'nsml-coordinator.service'), 'utf8');
    expect(unit).toMatch(/^User=nsml$/m);
    expect(unit).toMatch(/coordinator --host 0\.0\.0\.0 --port 7000 --data \/var\/lib\/nsml\/coordinator --heartbeat-timeout 30s$/m);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });

  it('keeps a coordinator\'s join token in a mode-600 file that the unit names, never in the unit or an environment', async () => {
    const r = await nsml(['coordinator', 'install-service', '--output', dir, '--join-token', 's3cret']);
    expect(r.code, r.stderr).toBe(0);
    const tokenFile = join(dir, 'nsml-coordinator.join-token');
    expect(readFileSync(tokenFile, 'utf8')).toBe('s3cret\n');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const unit = readFileSync(join(dir, 'nsml-coordinator.service'), 'utf8');
    expect(unit).toContain(`--join-token-file ${tokenFile}`);
    expect(unit).not.toContain('s3cret');
    expect(unit).not.toMatch(/EnvironmentFile/);
  });

  it('refuses bad values', async () => {
    expect((await nsml(['agent', 'install-service', '--output', dir, '--gpus', '0,x'])).code).toBe(2);
    expect((await nsml(['coordinator', 'install-service', '--output', dir, '--heartbeat-timeout', 'soon'])).code).toBe(2);
  });

  it.each([
    ['plain/path-1.js', 'plain/path-1.js'],
    ['has space', '"has space"'],
    ['100%', '100%%'],
    ['$HOME', '$$HOME'],
    ['say "x"', '"say \\"x\\""'],
    ['', '""'],
  ])('quotes %j as %s', (word, quoted) => expect(quoteUnitWord(word)).toBe(quoted));
});

describe('commands in their own modules', () => {
  it('explain a missing module', async () => {
    await expect(loadExternal('no-such-command', 'run', 'nsml nothing')).rejects.toMatchObject({
      code: 'NSML_E_INTERNAL',
      message: expect.stringMatching(/`nsml nothing` is not available in this build: cli\/commands\/no-such-command\.ts is missing/),
    });
  });

  it('explain a module without the expected export', async () => {
    await expect(loadExternal('ps', 'nope', 'nsml ps')).rejects.toMatchObject({ message: expect.stringMatching(/does not export nope/) });
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCommand, nodeSiteCommand, venvCommand } from './installer.js';
import { probeInterpreter } from './interpreters.js';
import { localRequirements, makeWheel } from './test-fixtures/wheels.js';
import { buildVenv, installerReason, installerEnv } from './venv-build.js';

describe('buildVenv (real venv and pip, no network)', () => {
  let d: string;
  let python: string;
  beforeAll(async () => {
    d = mkdtempSync(join(tmpdir(), 'nsml-venv-'));
    makeWheel(join(d, 'wheels'), 'hello-nsml', '0.2');
    python = (await probeInterpreter('python3'))!.path;
  });
  afterAll(() => rmSync(d, { recursive: true, force: true }));

  async function build(name: string, requirements: string): Promise<{ venv: string; lines: string[] }> {
    const ws = mkdtempSync(join(d, 'ws-'));
    writeFileSync(join(ws, 'requirements.txt'), requirements);
    const venv = join(d, name);
    const lines: string[] = [];
    await buildVenv({
      venv: venvCommand(python, venv), install: installCommand({ uv: undefined, venvPython: join(venv, 'bin', 'python'), installArgs: ['-r', 'requirements.txt'] }),
      cwd: ws, onLine: (l) => lines.push(l), signal: new AbortController().signal,
    });
    return { venv, lines };
  }

  it("installs a local wheel into a venv that also sees the node's site-packages", async () => {
    const { venv, lines } = await build('ok', localRequirements(join(d, 'wheels'), ['hello-nsml']));
    expect(lines.join('\n')).toMatch(/Successfully installed hello-nsml-0\.2/);
    const out = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import hello_nsml, pip, sys; print(hello_nsml.VALUE, sys.prefix != sys.base_prefix)'], { encoding: 'utf8' });
    expect(out.trim()).toBe('hello-nsml 0.2 True');
  });

  it('sees the packages of a node interpreter that is itself a virtual environment (an admin\'s torch venv)', async () => {
    makeWheel(join(d, 'wheels'), 'node-only', '1.0');
    const nodeVenv = join(d, 'node-venv');
    execFileSync(python, ['-m', 'venv', '--without-pip', nodeVenv]);
    const nodePython = join(nodeVenv, 'bin', 'python');
    const nodeSite = execFileSync(nodePython, ['-c', 'import site; print(site.getsitepackages()[0])'], { encoding: 'utf8' }).trim();
    execFileSync(python, ['-m', 'pip', 'install', '-q', '--no-index', '--find-links', join(d, 'wheels'), '--target', nodeSite, 'node-only']);
    const ws = mkdtempSync(join(d, 'ws-'));
    writeFileSync(join(ws, 'requirements.txt'), localRequirements(join(d, 'wheels'), ['node-only', 'hello-nsml']));
    const venv = join(d, 'on-node-venv');
    const lines: string[] = [];
    await buildVenv({
      venv: venvCommand(nodePython, venv), nodeSite: nodeSiteCommand(nodePython, venv),
      install: installCommand({ uv: undefined, venvPython: join(venv, 'bin', 'python'), installArgs: ['-r', 'requirements.txt'] }),
      cwd: ws, onLine: (l) => lines.push(l), signal: new AbortController().signal,
    });
    expect(lines.join('\n')).toMatch(/Requirement already satisfied: node-only/); // not installed again
    expect(lines.join('\n')).toContain(`the node's packages in ${nodeSite} are seen`);
    const out = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import node_only, hello_nsml; print(node_only.VALUE, hello_nsml.__file__.startswith(__import__("sys").prefix))'], { encoding: 'utf8' });
    expect(out.trim()).toBe('node-only 1.0 True');
  });

  it("fails with pip's own last ERROR line", async () => {
    const err = await build('bad', '--no-index\nnosuchpkg\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NSML_E_ENV_BUILD_FAILED', message: 'environment build failed: ERROR: No matching distribution found for nosuchpkg' });
  });

  it.each([
    [['Collecting x', 'ERROR: first', 'ERROR: last', ''], 'ERROR: last'],
    [['error: metadata-generation-failed', 'hint: see above'], 'error: metadata-generation-failed'],
    [['only a line', ''], 'only a line'],
    [[], 'no output'],
  ])('the reason of %j is %j', (lines, want) => expect(installerReason(lines)).toBe(want));
});

describe('installerEnv', () => {
  it("passes the admin's index, proxy and locale settings and nothing else of the agent's", () => {
    const env = installerEnv({
      PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', PIP_INDEX_URL: 'https://mirror/simple', UV_INDEX_URL: 'u', https_proxy: 'http://p:3128',
      SSL_CERT_FILE: '/etc/ca.pem', NSML_JOIN_TOKEN: 'secret', AWS_SECRET_ACCESS_KEY: 'k', HOME: '/root', NSML_DATA: '/var/lib/nsml',
    });
    expect(env).toEqual({
      PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', PIP_INDEX_URL: 'https://mirror/simple', UV_INDEX_URL: 'u', https_proxy: 'http://p:3128', SSL_CERT_FILE: '/etc/ca.pem',
    });
  });
});

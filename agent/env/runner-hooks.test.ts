import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunnerFixture, shippedLines } from '../testing/runner-fixture.js';
import type { RankRunner } from '../runner/rank-runner.js';
import { Runner } from '../runner/runner.js';
import { EnvCache } from './env-cache.js';
import type { Environments } from './environments.js';
import { probeInterpreter } from './interpreters.js';
import { localRequirements, makeWheel } from './test-fixtures/wheels.js';

const PRINT = 'import sys, hello_nsml\nprint("value", hello_nsml.VALUE)\nprint("prefix", sys.prefix)\n';

describe('environment hook (real venv, real pip, no network)', () => {
  let f: RunnerFixture;
  let runner: Runner;
  let wheels: string;
  let envs: Environments;
  let n = 0;
  beforeAll(async () => {
    f = new RunnerFixture();
    wheels = join(f.dir, 'wheels');
    mkdirSync(wheels);
    makeWheel(wheels, 'hello-nsml');
    const python = (await probeInterpreter('python3'))!;
    envs = {
      defaultPython: python, pythons: [python], uv: undefined, containers: undefined, requireImages: false, dataDir: f.dir,
      cache: EnvCache.open({ dir: join(f.dir, 'envs'), budgetBytes: 1 << 30 }),
    };
    runner = Runner.open(f.sessionsDir, f.deps({ environments: envs }));
  });
  afterAll(async () => {
    await runner.stopAll(0, 'test over');
    f.cleanup();
  });

  async function run(files: Record<string, string>, extra: { python?: string; image?: string } = {}): Promise<{ r: RankRunner; text: string }> {
    n += 1;
    const r = runner.start(f.spec({ session: `alice/scratch/${n}`, workspace: f.workspace(files), ...extra }));
    await r.whenDone();
    return { r, text: shippedLines(r.dir).map((l) => l.text).join('\n') };
  }

  it('builds the environment once, then starts the next session with it cached', async () => {
    const files = { 'main.py': PRINT, 'requirements.txt': localRequirements(wheels, ['hello-nsml']) };
    const first = await run(files);
    expect(first.r.record.end?.exitCode).toBe(0);
    expect(first.text).toMatch(/nsml: building environment [0-9a-f]{12} \(1 requirement\)…/);
    expect(first.text).toMatch(/Successfully installed hello-nsml-0\.1/);
    expect(first.text).toMatch(/nsml: environment [0-9a-f]{12} ready in \d+\.\d s/);
    expect(first.text).toContain('value hello-nsml 0.1');
    const second = await run(files);
    expect(second.text).toMatch(/nsml: environment [0-9a-f]{12} cached/);
    expect(second.text).not.toContain('building');
    expect(second.text).toContain('value hello-nsml 0.1');
    expect(envs.cache.status()).toMatchObject({ envs: 1, inUse: [] });
  });

  it('builds once when two sessions with the same requirements start together', async () => {
    const files = { 'main.py': PRINT, 'requirements.txt': localRequirements(wheels, ['hello-nsml', '# together']) };
    n += 2;
    const [a, b] = [n - 1, n].map((i) => runner.start(f.spec({ session: `alice/scratch/${i}`, workspace: f.workspace(files) })));
    await Promise.all([a!.whenDone(), b!.whenDone()]);
    const texts = [a!, b!].map((r) => shippedLines(r.dir).map((l) => l.text).join('\n'));
    expect(texts.filter((t) => t.includes('building environment'))).toHaveLength(1);
    expect(texts.filter((t) => /environment [0-9a-f]{12} built by another session starting at the same time \(waited \d+\.\d s\)/.test(t))).toHaveLength(1);
    for (const t of texts) expect(t).toContain('value hello-nsml 0.1');
  });

  it("fails the session with pip's own error when a package cannot be installed", async () => {
    const { r, text } = await run({ 'main.py': 'print("never")\n', 'requirements.txt': '--no-index\nnosuchpkg\n' });
    expect(r.record.phase).toBe('failed_to_start');
    expect(r.record.end?.message).toBe('environment build failed: ERROR: No matching distribution found for nosuchpkg');
    expect(text).toContain('ERROR: No matching distribution found for nosuchpkg');
    expect(text).not.toContain('never');
  });

  it("runs NAVER's setup.py (image header, empty install_requires) with the node's Python and a warning", async () => {
    const setup = '#nsml: floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17\nfrom distutils.core import setup\nsetup(name="x", install_requires=[\n])\n';
    const { r, text } = await run({ 'main.py': 'import os\nprint("venv", os.environ.get("VIRTUAL_ENV"))\nprint("nfs", os.environ["NSML_NFS_OUTPUT"])\n', 'setup.py': setup });
    expect(r.record.end?.exitCode).toBe(0);
    expect(text).toContain('nsml: this node has no container runtime; ignoring the image floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17 named in setup.py');
    expect(text).toContain('venv None');
    expect(text).toContain(`nfs ${join(f.dir, 'nfs-output', 'alice', 'scratch', String(n))}`);
  });

  it.each([
    ['an image with no container runtime', { image: 'docker.io/library/python:3.11' }, 'NSML_E_NO_CONTAINER_RUNTIME', /cannot run in the image docker\.io\/library\/python:3\.11.*install podman on the node, or run without --image/],
    ['a Python the node lacks', { python: '2.7' }, 'NSML_E_PYTHON_UNAVAILABLE', /asks for Python 2\.7 and this node offers 3\.\d+\.\d+/],
  ])('fails to start for %s', async (_what, extra, _code, message) => {
    const { r } = await run({ 'main.py': 'print("never")\n' }, extra);
    expect(r.record.phase).toBe('failed_to_start');
    expect(r.record.end?.message).toMatch(message);
  });
});

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TestCluster, type CliResult } from '../harness/cluster.js';
import { makeWheel } from '../../agent/env/test-fixtures/wheels.js';

/*
 * A workspace shaped like NAVER's 2018 movie-review baseline (test/fixtures/movie-review-like: its
 * setup.py with the `#nsml:` image header and install_requires, its bind with a file-style
 * torch.save, paused(scope=locals()), report(summary=True, scope=locals(), ...), nsml.save(epoch),
 * --mode test_local), run unchanged: through `nsml run` on a local cluster (the node installs
 * its `torch` from setup.py: here the SDK tests' imitation of torch 2.x's save/load, from a local
 * wheel, no network), continued with `nsml fork -c 1`, and offline with plain python3.
 */

const EXAMPLE = join(ROOT, 'test', 'fixtures', 'movie-review-like');
const FAKE_TORCH = join(ROOT, 'sdk-python', 'tests', 'fakes', 'torch');
const SDK = join(ROOT, 'sdk-python', 'src');

/** Reviews and scores in the baseline's layout: train/train_data (a review a line), train/train_label. */
function writeData(dir: string): void {
  mkdirSync(join(dir, 'train'), { recursive: true });
  const good = ['좋아요 최고의 영화', '재밌다 또 보고 싶다', 'great movie, loved it'];
  const bad = ['지루하다 별로', '최악 시간 낭비', 'boring and too long'];
  const reviews: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 48; i += 1) {
    const positive = i % 3 !== 0;
    reviews.push(`${(positive ? good : bad)[i % 3]} ${i}`);
    labels.push(positive ? 8 + (i % 3) : 1 + (i % 3));
  }
  writeFileSync(join(dir, 'train', 'train_data'), reviews.join('\n') + '\n');
  writeFileSync(join(dir, 'train', 'train_label'), labels.join('\n') + '\n');
}

const lines = (r: CliResult) => `${r.stdout}\n${r.stderr}`.split('\n');
/** `saved FINGERPRINT` lines in order, one per epoch. */
const saved = (r: CliResult) => lines(r).filter((l) => /^saved -?\d/.test(l.trim())).map((l) => l.trim().split(/\s+/)[1]);

describe('a movie-review-shaped NSML baseline, unchanged', () => {
  let c: TestCluster;
  let ws: string;
  let parent: string;
  let trained: CliResult;

  beforeAll(async () => {
    const wheels = mkdtempSync(join(tmpdir(), 'nsml-wheels-'));
    makeWheel(wheels, 'torch', '2.5.0+fake', FAKE_TORCH);
    // The node's installer finds `torch` among the local wheels only (an admin's PIP_* settings reach it).
    c = await TestCluster.start({ agents: 1, env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } });
    const data = join(c.dir, 'movie_review');
    writeData(data);
    expect((await c.nsml(['dataset', 'push', 'movie_review', data])).exitCode).toBe(0);
    ws = join(c.dir, 'example');
    cpSync(EXAMPLE, ws, { recursive: true });
    trained = await c.nsml(['run', '-d', 'movie_review', '-a', '--epochs 3', '--json'], { cwd: ws, timeoutMs: 150_000 });
    parent = (JSON.parse(trained.stdout) as { name: string }).name;
  }, 240_000);
  afterAll(async () => {
    await c?.destroy();
  });

  it('installs setup.py\'s install_requires for the session, warns about the image it cannot run, trains and saves every epoch', async () => {
    const run = JSON.parse(trained.stdout) as { name: string; state: string; reason: string };
    expect(run.state, `${run.reason}\n${trained.stderr}`).toBe('succeeded');
    expect(parent).toMatch(/\/movie_review\/1$/);
    const log = trained.stderr;
    expect(log).toMatch(/nsml: building environment [0-9a-f]{12} \(1 requirement\)/);
    expect(log).toContain('ignoring the image floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17 named in setup.py');
    expect(log).toMatch(/epoch: 2 {2}train_loss: /);
    expect(saved(trained)).toHaveLength(3);
    const checkpoints = await c.nsmlJson<Array<{ name: string; files: number }>>(['model', 'ls', parent]);
    expect(checkpoints.map((x) => x.name).sort()).toEqual(['0', '1', '2']);
    expect(checkpoints.every((x) => x.files === 1)).toBe(true); // one file at the path: the 2018 style
    const loss = (await c.nsmlJson<{ points: Array<{ key: string; step: number; value: number }> }>(['metrics', parent, '--key', 'train__loss'])).points;
    expect(loss.map((p) => p.step)).toEqual([0, 1, 2]);
    expect(loss[2]!.value).toBeLessThan(loss[0]!.value);
  });

  it('nsml fork -c 1 loads checkpoint 1 with the bound load (paused) and trains on, in the cached environment', async () => {
    const fork = await c.nsml(['fork', parent, '-c', '1', '-a', '--epochs 1', '--json'], { timeoutMs: 150_000 });
    const run = JSON.parse(fork.stdout) as { name: string; state: string; reason: string };
    expect(run.state, `${run.reason}\n${fork.stderr}`).toBe('succeeded');
    expect(fork.stderr).toMatch(/nsml: environment [0-9a-f]{12} cached/);
    const loaded = lines(fork).find((l) => l.includes('Model loaded'));
    expect(loaded?.trim().split(/\s+/).at(-1)).toBe(saved(trained)[1]); // exactly the weights of epoch 1
    expect(saved(fork)).toHaveLength(1);
    const ps = await c.nsmlJson<Array<{ name: string; kind: string; parent: string }>>(['ps', '-a']);
    expect(ps.find((s) => s.name === run.name)).toMatchObject({ kind: 'fork', parent });
  });

  it('runs --mode test_local after --pause 1 --iteration 2 of the parent: nsml.infer with the bound infer', async () => {
    const r = await c.nsml(['run', '-d', 'movie_review', '--session', parent, '--pause', '1', '--iteration', '2', '-a', '--mode test_local', '--json'], {
      cwd: ws, timeoutMs: 150_000,
    });
    const run = JSON.parse(r.stdout) as { state: string; reason: string };
    expect(run.state, `${run.reason}\n${r.stderr}`).toBe('succeeded');
    expect(lines(r).find((l) => l.includes('Model loaded'))?.trim().split(/\s+/).at(-1)).toBe(saved(trained)[2]);
    const predictions = lines(r).find((l) => l.trim().startsWith('[(0.0, '));
    expect(predictions?.match(/\(0\.0, /g)).toHaveLength(48);
  });

  it('runs the same script offline with python3: trains, resumes --pause 1 --iteration 1 from the last local session, infers', () => {
    const dir = join(c.dir, 'offline');
    cpSync(EXAMPLE, join(dir, 'example'), { recursive: true });
    writeData(join(dir, 'sample_data', 'movie_review'));
    const env = { ...process.env, PYTHONPATH: [SDK, join(FAKE_TORCH, '..')].join(':'), NSML_AGENT_SOCKET: '' };
    const py = (args: string[]) => execFileSync('python3', ['main.py', ...args], { cwd: join(dir, 'example'), env, encoding: 'utf8', stdio: 'pipe' });
    const out = py(['--epochs', '2']);
    const fingerprints = out.split('\n').filter((l) => l.startsWith('saved ')).map((l) => l.split(' ')[1]);
    expect(fingerprints).toHaveLength(2);
    const resumed = py(['--pause', '1', '--iteration', '1', '--epochs', '1']);
    expect(resumed).toContain(`Model loaded ${fingerprints[1]}`);
    const again = resumed.split('\n').find((l) => l.startsWith('saved '))?.split(' ')[1]; // its own checkpoint 0, the newest
    const inferred = py(['--mode', 'test_local', '--pause', '1', '--iteration', '0']);
    expect(inferred).toContain(`Model loaded ${again}`);
    expect(inferred.match(/\(0\.0, /g)).toHaveLength(48);
    expect(readdirSync(join(dir, 'example', '.nsml', 'sessions'))).toHaveLength(1);
    expect(readFileSync(join(dir, 'example', 'setup.py'), 'utf8')).toContain('#nsml: floydhub/');
  });
});

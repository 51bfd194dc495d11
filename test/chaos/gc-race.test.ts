import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/**
 * Blob collection racing real uploads. The coordinator runs with a grace period of 0, so only
 * the upload guard (the set of blobs of uploads in flight) stands between a collection and a
 * blob that was just Put but whose manifest is not registered yet. While `nsml admin gc` runs
 * back to back, three datasets are pushed round after round (half the versions removed at
 * once) and a session saves checkpoints (one name saved again and again, so its older manifests
 * become garbage). Then every kept manifest is pulled byte for byte, and the blobs of removed
 * versions and replaced checkpoints must be gone.
 */

const ROUNDS = 6;
const DATASETS = ['gca', 'gcb', 'gcc'];
const FILES = 120;
const SAVES = 12;

/** Saves `keep-I` (kept) and `latest` (replaced every time) with random bytes; prints their sha256. */
const SAVER = `import hashlib, json, os, time
import nsml
out = {}
current = {}
def save(path):
    with open(path, 'wb') as f:
        f.write(current['data'])
nsml.bind(save=save)
for i in range(${SAVES}):
    for name in ('keep-%d' % i, 'latest'):
        current['data'] = os.urandom(20000)
        nsml.save(name)
        out.setdefault(name, []).append(hashlib.sha256(current['data']).hexdigest())
    time.sleep(0.2)
print('RESULT ' + json.dumps(out), flush=True)
`;

const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** sha256 of every file under `dir`, by relative path. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = sha(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

interface Pushed {
  ref: string;
  dir: string;
  removed: boolean;
}

describe('blob collection racing pushes and checkpoint saves', () => {
  let cluster: TestCluster;
  const pushed: Pushed[] = [];
  const gcRuns: Array<{ removed: { blobs: number } }> = [];
  let session = '';
  let saved: Record<string, string[]> = {};

  const blobPath = (hash: string) => join(cluster.dir, 'coordinator', 'blobs', 'sha256', hash.slice(0, 2), hash);

  beforeAll(async () => {
    cluster = await TestCluster.start({ agents: 1, coordinatorArgs: ['--gc-interval', '20ms', '--gc-grace', '0'] });
    const ws = makeWorkspace({ 'main.py': SAVER }, cluster.dir);
    const run = await cluster.nsmlJson<{ name: string }>(['run', '--detach'], { cwd: ws });
    session = run.name;

    let racing = true;
    const collector = (async () => {
      while (racing) {
        const r = await cluster.nsml(['admin', 'gc', '--json']);
        if (r.exitCode !== 0) throw new Error(`nsml admin gc exited ${r.exitCode}: ${r.stderr}`);
        gcRuns.push(JSON.parse(r.stdout) as { removed: { blobs: number } });
      }
    })();
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await Promise.all(DATASETS.map(async (name) => {
          const dir = join(cluster.dir, 'data', `${name}-${round}`);
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, 'common.txt'), 'the same file in every version');
          for (let i = 0; i < FILES; i += 1) writeFileSync(join(dir, `f${i}.bin`), randomBytes(2048));
          const p = await cluster.nsmlJson<{ ref: string }>(['dataset', 'push', name, dir]);
          const removed = round % 2 === 1;
          if (removed) {
            const rm = await cluster.nsml(['dataset', 'rm', p.ref]);
            expect(rm.exitCode, rm.stderr).toBe(0);
          }
          pushed.push({ ref: p.ref, dir, removed });
        }));
      }
      const waited = await cluster.nsml(['wait', session], { timeoutMs: 120_000 });
      expect(waited.exitCode, waited.stderr).toBe(0);
    } finally {
      racing = false;
      await collector;
    }
    const logs = await cluster.nsml(['logs', session]);
    const line = logs.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the saver printed no RESULT line:\n${logs.stdout}\n${logs.stderr}`);
    saved = JSON.parse(line.slice(7)) as Record<string, string[]>;
    const last = await cluster.nsml(['admin', 'gc', '--json']);
    expect(last.exitCode, last.stderr).toBe(0);
    gcRuns.push(JSON.parse(last.stdout) as { removed: { blobs: number } });
  }, 300_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('collected while the uploads ran', () => {
    expect(gcRuns.length).toBeGreaterThan(2);
    expect(gcRuns.slice(0, -1).reduce((n, r) => n + r.removed.blobs, 0)).toBeGreaterThan(0);
  });

  it('every kept dataset version pulls back byte for byte', async () => {
    const kept = pushed.filter((p) => !p.removed);
    expect(kept.length).toBe(DATASETS.length * Math.ceil(ROUNDS / 2));
    for (const p of kept) {
      const out = join(cluster.dir, 'pulled', p.ref.replace('@', '-'));
      const r = await cluster.nsml(['dataset', 'pull', p.ref, out]);
      expect(r.exitCode, `${p.ref}: ${r.stderr}`).toBe(0);
      expect(tree(out)).toEqual(tree(p.dir));
    }
  });

  it('every checkpoint pulls back byte for byte', async () => {
    for (let i = 0; i < SAVES; i += 1) {
      const out = join(cluster.dir, 'models', `keep-${i}`);
      const r = await cluster.nsml(['model', 'pull', session, `keep-${i}`, out]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(Object.values(tree(out))).toEqual([saved[`keep-${i}`]![0]]);
    }
    const out = join(cluster.dir, 'models', 'latest');
    expect((await cluster.nsml(['model', 'pull', session, 'latest', out])).exitCode).toBe(0);
    expect(Object.values(tree(out))).toEqual([saved.latest!.at(-1)]);
  });

  it('the blobs of removed versions and of replaced checkpoints are collected', () => {
    const removed = pushed.filter((p) => p.removed);
    expect(removed.length).toBeGreaterThan(0);
    for (const p of removed) {
      const files = Object.entries(tree(p.dir)).filter(([path]) => path !== 'common.txt');
      expect(files.filter(([, hash]) => existsSync(blobPath(hash))).map(([path]) => `${p.ref}/${path}`)).toEqual([]);
    }
    expect(existsSync(blobPath(sha('the same file in every version')))).toBe(true);
    const replaced = saved.latest!.slice(0, -1);
    expect(replaced.filter((hash) => existsSync(blobPath(hash)))).toEqual([]);
  });

  it('only admins collect; `nsml rm` removes an ended session of its owner, and the next collection frees its checkpoints', async () => {
    const denied = await cluster.nsml(['admin', 'gc', '--dry-run'], { env: cluster.asUser('mallory') });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toContain('NSML_E_PERMISSION_DENIED');
    const notYours = await cluster.nsml(['rm', session], { env: cluster.asUser('mallory') });
    expect(notYours.stderr).toContain('NSML_E_SESSION_NOT_FOUND');
    const kept = Array.from({ length: SAVES }, (_, i) => saved[`keep-${i}`]![0]!);
    expect(kept.filter((hash) => !existsSync(blobPath(hash)))).toEqual([]);
    const rm = await cluster.nsmlJson<Array<{ name: string; checkpoints: number; logLines: number }>>(['rm', session]);
    expect(rm).toMatchObject([{ name: session, checkpoints: SAVES + 1 }]);
    expect((await cluster.nsml(['logs', session])).stderr).toContain('NSML_E_SESSION_NOT_FOUND');
    // The schedule (every 20 ms here) or this call collects them (the unit tests check --dry-run).
    await cluster.nsmlJson(['admin', 'gc']);
    expect(kept.filter((hash) => existsSync(blobPath(hash)))).toEqual([]);
  });
});

import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointServer } from '../../coordinator/checkpoints/test-fixtures/checkpoint-server.js';
import { captureIo } from '../io.js';
import { runCliWith } from '../main.js';
import { formatSummary } from './model.js';

let s: CheckpointServer;
let session: string;

async function nsml(argv: string[], user = 'alice') {
  const io = captureIo({ cwd: s.dir, env: { NSML_HOME: join(s.dir, 'home'), NSML_COORDINATOR: s.address, NSML_TOKEN: s.tokenOf(user) } });
  const code = await runCliWith(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

beforeAll(async () => {
  s = await CheckpointServer.start();
  session = s.session('alice', 1, 'mnist');
  await s.save(session, '1', { model: 'epoch one' }, { 'val/acc': 0.5, 'train/loss': 1.23456 });
  await s.save(session, 'best', { 'model/w.bin': 'weights', 'model/run.sh': ['#!/bin/sh\n', 0o755] }, { 'val/acc': 0.9 });
});
afterAll(async () => {
  await s?.cleanup();
});

describe('nsml model', () => {
  it('lists the checkpoints of a session, newest first, with size and summary', async () => {
    const ls = await nsml(['model', 'ls', session]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SAVED\s+SIZE\s+FILES\s+SUMMARY$/);
    expect(lines[1]).toMatch(/^best\s+.* ago\s+17 B\s+2\s+val\/acc=0\.9$/);
    expect(lines[2]).toMatch(/^1\s+.* ago\s+9 B\s+1\s+train\/loss=1\.235 val\/acc=0\.5$/);
    const short = await nsml(['model', 'ls', 'mnist/1', '--json']);
    const json = JSON.parse(short.stdout) as Array<Record<string, unknown>>;
    expect(json.map((c) => [c.name, c.size, c.files, c.summary])).toEqual([['best', 17, 2, { 'val/acc': 0.9 }], ['1', 9, 1, { 'val/acc': 0.5, 'train/loss': 1.23456 }]]);
    expect(json[0]).toMatchObject({ session, source: 'sdk', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('pulls a checkpoint into a new directory and refuses a non-empty one', async () => {
    const dest = join(s.dir, 'pulled');
    const r = await nsml(['model', 'pull', session, 'best', dest]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`pulled ${session}/best into ${dest}: 2 files`);
    expect(readFileSync(join(dest, 'model', 'w.bin'), 'utf8')).toBe('weights');
    expect(statSync(join(dest, 'model', 'run.sh')).mode & 0o111).not.toBe(0);
    const full = join(s.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const busy = await nsml(['model', 'pull', session, '1', full]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('NSML_E_DESTINATION_NOT_EMPTY');
    expect(readdirSync(full)).toEqual(['keep.txt']);
    expect(readdirSync(s.dir).filter((n) => n.includes('nsml-pull'))).toEqual([]);
  });

  it.each([
    [['model', 'pull', 'mnist/1', 'nope', 'x'], 'NSML_E_NOT_FOUND', 'existing: best, 1'],
    [['model', 'ls', 'alice/mnist/7'], 'NSML_E_SESSION_NOT_FOUND', 'no session named alice/mnist/7'],
    [['model', 'ls', '../x/1'], 'NSML_E_INVALID_NAME', 'USER/DATASET/N'],
    [['model', 'pull', 'mnist/1', 'a/b', 'x'], 'NSML_E_INVALID_NAME', 'checkpoint name'],
    [['model', 'push'], 'NSML_E_USAGE', 'expected ls, pull or rm'],
    [['model', 'pull', 'mnist/1'], 'NSML_E_USAGE', 'missing argument'],
  ])('nsml %j fails with %s', async (argv, code, text) => {
    const r = await nsml(argv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toContain(text);
  });

  it("refuses another user's session", async () => {
    const r = await nsml(['model', 'ls', session], 'bob');
    expect(r.stderr).toContain('NSML_E_SESSION_NOT_FOUND');
  });

  it.each([
    [{}, ''],
    [{ b: 2, a: 0.123456 }, 'a=0.1235 b=2'],
    [{ x: Number.NaN, y: Number.POSITIVE_INFINITY }, 'x=NaN y=Infinity'],
  ])('formats the summary %j as %j', (summary, text) => {
    expect(formatSummary(summary)).toBe(text);
  });
});

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { type Coordinator, startCoordinator } from '../../coordinator/main.js';
import { issueTestToken } from '../../test/harness/test-coordinator.js';
import { captureIo } from '../io.js';
import { runCliWith } from '../main.js';

let dir: string;
let data: string;
let coordinator: Coordinator;

async function nsml(argv: string[], user = 'alice') {
  const io = captureIo({ cwd: dir, env: { NSML_HOME: join(dir, 'home'), NSML_COORDINATOR: coordinator.address, NSML_TOKEN: issueTestToken(join(dir, 'coordinator'), user) } });
  const code = await runCliWith(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function write(rel: string, text: string, mode = 0o644): void {
  const abs = join(data, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text, { mode });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-cli-ds-'));
  data = join(dir, 'data');
  write('train/a.txt', 'alpha\n');
  write('train/b.txt', 'alpha\n');
  write('test/c.txt', 'gamma\n');
  write('bin/run.sh', '#!/bin/sh\n', 0o755);
  coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), port: 0, logger: silentLogger });
});
afterAll(async () => {
  await coordinator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('nsml dataset', () => {
  it('pushes, lists, shows the files and pulls a copy', async () => {
    const pushed = await nsml(['dataset', 'push', 'mnist', data, '-m', 'hand-written digits']);
    expect(pushed).toMatchObject({ code: 0, stdout: 'mnist@1\n' });
    expect(pushed.stderr).toMatch(/pushed mnist@1: 4 files/);
    const ls = await nsml(['dataset', 'ls']);
    expect(ls.stdout).toMatch(/^NAME\s+LATEST\s+SIZE\s+FILES\s+OWNER\s+UPDATED\s+DESCRIPTION\nmnist\s+@1\s+28 B\s+4\s+alice\s+.*hand-written digits\n$/);
    const json = JSON.parse((await nsml(['dataset', 'ls', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ name: 'mnist', version: 1, size: 28, files: 4, owner: 'alice', description: 'hand-written digits', private: false })]);
    const fs = await nsml(['dataset', 'fs', 'mnist@1']);
    expect(fs.stdout.trim().split('\n').map((l) => l.split(/\s+/).pop())).toEqual(['bin/run.sh', 'test/c.txt', 'train/a.txt', 'train/b.txt']);
    expect(fs.stdout).toMatch(/-rwxr-xr-x\s+10 B\s+bin\/run\.sh/);
    const dest = join(dir, 'copy');
    expect((await nsml(['dataset', 'pull', 'mnist', dest])).code).toBe(0);
    expect(readFileSync(join(dest, 'train/b.txt'), 'utf8')).toBe('alpha\n');
    expect(statSync(join(dest, 'bin/run.sh')).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir).filter((n) => n.includes('nsml-pull'))).toEqual([]);
  });

  it('refuses to pull into a non-empty directory, and leaves it as it was', async () => {
    const dest = join(dir, 'busy');
    mkdirSync(dest);
    writeFileSync(join(dest, 'mine.txt'), 'keep');
    const r = await nsml(['dataset', 'pull', 'mnist', dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NSML_E_DESTINATION_NOT_EMPTY: .*busy is not empty \(it holds mine\.txt\); pull into a new or empty directory/);
    expect(readdirSync(dest)).toEqual(['mine.txt']);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect((await nsml(['dataset', 'pull', 'mnist@1', empty])).code).toBe(0);
    expect(readdirSync(empty).sort()).toEqual(['bin', 'test', 'train']);
  });

  it('keeps a private dataset from other users until it is shared', async () => {
    expect((await nsml(['dataset', 'push', 'faces', data, '--private'])).code).toBe(0);
    expect(JSON.parse((await nsml(['dataset', 'ls', '--json'], 'bob')).stdout)).toEqual([expect.objectContaining({ name: 'mnist' })]);
    const denied = await nsml(['dataset', 'fs', 'faces'], 'bob');
    expect(denied.stderr).toMatch(/NSML_E_PERMISSION_DENIED: dataset faces is private to alice/);
    expect((await nsml(['dataset', 'share', 'faces', 'bob'])).stdout).toBe('faces: private to alice, readable by bob\n');
    expect((await nsml(['dataset', 'fs', 'faces'], 'bob')).code).toBe(0);
    expect((await nsml(['dataset', 'push', 'faces', data], 'bob')).stderr).toMatch(/NSML_E_PERMISSION_DENIED: dataset faces belongs to alice/);
  });

  it('lists the versions of one dataset and removes them', async () => {
    write('test/c.txt', 'changed\n');
    expect((await nsml(['dataset', 'push', 'mnist', data])).stdout).toBe('mnist@2\n');
    const versions = JSON.parse((await nsml(['dataset', 'ls', 'mnist', '--json'])).stdout) as Array<{ ref: string }>;
    expect(versions.map((v) => v.ref)).toEqual(['mnist@2', 'mnist@1']);
    expect((await nsml(['dataset', 'rm', 'mnist@1'])).stdout).toBe('removed mnist@1\n');
    expect((await nsml(['dataset', 'fs', 'mnist@1'])).stderr).toMatch(/NSML_E_DATASET_NOT_FOUND: dataset mnist has no version 1; its versions are 2/);
  });

  it.each([
    [['dataset', 'push', 'MNIST', 'data'], /NSML_E_INVALID_NAME: invalid dataset name "MNIST": use lowercase letters, digits, "-" and "_", at most 64 characters/],
    [['dataset', 'push', 'x'.repeat(65), 'data'], /NSML_E_INVALID_NAME/],
    [['dataset', 'push', 'ok', join('/nonexistent', 'dir')], /NSML_E_NOT_FOUND: directory \/nonexistent\/dir does not exist/],
    [['dataset', 'fs', 'nope'], /NSML_E_DATASET_NOT_FOUND: no dataset named nope/],
    [['dataset', 'pull', 'mnist@x', 'out'], /NSML_E_INVALID_NAME: invalid dataset version/],
    [['dataset', 'push', 'a', 'b', '--private', '--public'], /NSML_E_USAGE: give --private or --public, not both/],
    [['dataset', 'frobnicate'], /NSML_E_USAGE: unknown subcommand "frobnicate"/],
    [['run', '-d', 'Bad Name'], /NSML_E_INVALID_NAME/],
  ])('nsml %j fails clearly', async (argv, message) => {
    const r = await nsml(argv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
